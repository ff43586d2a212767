"""The read queries of the chat API: one SQL statement each, at a cost that does not grow with
the tables.

Both listings read ``posts.comment_count``, which the writes keep (``writes.py``), so nothing
aggregates over the comments: ``user_posts`` walks ``ix_posts_user_id_created_at_id`` backwards
and ``popular_posts`` walks ``ix_posts_popular`` backwards, ``limit`` rows each, joining each row
to its author by primary key -- O(limit · log n). (The first version counted the comments with
``LEFT JOIN comments ... GROUP BY``: the popular posts cost a scan of every comment, and every
write recomputed it; at 20,000 posts a post and a comment cost 42 ms of CPU instead of 10.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select

from plexichat.service.models import Post, User

PostsSelect = Select[int, int, str, str, str, datetime, int]
"""Columns: id, user_id, username, title, body, created_at, comment_count."""


def _posts_with_authors() -> PostsSelect:
    return select(
        Post.id,
        Post.user_id,
        User.username,
        Post.title,
        Post.body,
        Post.created_at,
        Post.comment_count,
    ).join(User, Post.user_id == User.id)


def user_posts(user_id: int, limit: int) -> PostsSelect:
    """A user's posts, newest first, with username and comment count."""
    return (
        _posts_with_authors()
        .where(Post.user_id == user_id)
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(limit)
    )


def popular_posts(limit: int) -> PostsSelect:
    """The ``limit`` posts with the most comments (newest first among equals)."""
    return (
        _posts_with_authors()
        .order_by(Post.comment_count.desc(), Post.created_at.desc(), Post.id.desc())
        .limit(limit)
    )


def recent_post_authors(scan: int) -> Select[int]:
    """The authors of the ``scan`` newest posts, newest first, repeats included (for warming
    the cache): a bounded index scan, not a grouping of every post."""
    return select(Post.user_id).order_by(Post.created_at.desc(), Post.id.desc()).limit(scan)
