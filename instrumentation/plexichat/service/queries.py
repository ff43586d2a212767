"""The read queries of the chat API, each one SQL statement.

``user_posts`` is the guide's "optimized database query" (Performance Tuning Guidelines, 1.):
posts joined to their author, left-joined to their comments, counted and grouped in the database
-- no N+1. ``popular_posts`` is the same shape ordered by comment count; it aggregates over all
comments, which is fine at demo scale and the first candidate for the query cache later.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select

from plexichat.service.models import Comment, Post, User

PostsSelect = Select[int, int, str, str, str, datetime, int]
"""Columns: id, user_id, username, title, body, created_at, comment_count."""

_comment_count = func.count(Comment.id).label("comment_count")


def _posts_with_counts() -> PostsSelect:
    return (
        select(
            Post.id,
            Post.user_id,
            User.username,
            Post.title,
            Post.body,
            Post.created_at,
            _comment_count,
        )
        .join(User, Post.user_id == User.id)
        .outerjoin(Comment, Comment.post_id == Post.id)
        .group_by(Post.id, User.username)
    )


def user_posts(user_id: int, limit: int) -> PostsSelect:
    """A user's posts, newest first, with username and comment count."""
    return (
        _posts_with_counts()
        .where(Post.user_id == user_id)
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(limit)
    )


def popular_posts(limit: int) -> PostsSelect:
    """The ``limit`` posts with the most comments (newest first among equals)."""
    return (
        _posts_with_counts()
        .order_by(_comment_count.desc(), Post.created_at.desc(), Post.id.desc())
        .limit(limit)
    )
