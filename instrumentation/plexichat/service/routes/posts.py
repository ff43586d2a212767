"""Posts and comments: a user's posts, the popular posts, creating posts and comments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status

from plexichat.service import writes
from plexichat.service.caching import DEFAULT_POPULAR_LIMIT, DEFAULT_USER_POSTS_LIMIT, MAX_LIMIT
from plexichat.service.dependencies import SessionDep, StateDep, unknown_reference
from plexichat.service.schemas import (
    MAX_ID,
    CommentCreate,
    CommentOut,
    PostCreate,
    PostOut,
    PostSummary,
)

router = APIRouter(tags=["posts"])
"""Reads return the cached JSON-shaped dicts as they are: ``response_model`` validates and
serialises them once (building models here first would convert every item twice more)."""

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT}.")]


@router.get(
    "/users/{user_id}/posts",
    response_model=list[PostSummary],
    responses={status.HTTP_404_NOT_FOUND: {"description": "No such user."}},
)
async def list_user_posts(
    user_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    session: SessionDep,
    state: StateDep,
    limit: Limit = DEFAULT_USER_POSTS_LIMIT,
) -> list[dict[str, Any]]:
    """The user's posts, newest first, with username and comment count.

    Through the cache (``user_posts:{id}:{limit}``); on a miss one SQL statement
    (``queries.user_posts``). Only when it finds nothing is the user looked up, to tell "no
    posts yet" (200, empty list) from "no such user" (404).
    """
    with state.metrics.timer("user_posts_read"):
        listing = await state.cache.user_posts(session, user_id, limit)
        if listing is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"user {user_id} does not exist")
        return listing


@router.get("/posts/popular", response_model=list[PostSummary])
async def list_popular_posts(
    session: SessionDep, state: StateDep, limit: Limit = DEFAULT_POPULAR_LIMIT
) -> list[dict[str, Any]]:
    """The posts with the most comments, through the cache (``popular_posts:{limit}``): the
    feed."""
    with state.metrics.timer("feed_read"):
        return await state.cache.popular_posts(session, limit)


@router.post(
    "/posts",
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "Invalid body, or the author does not exist."}},
)
async def create_post(body: PostCreate, session: SessionDep, state: StateDep) -> PostOut:
    """Write a post: 201 with the post, 422 when the author does not exist. The author's listing
    and the popular posts are invalidated before the answer."""
    with state.metrics.timer("post_create"):
        if await state.cache.user(session, body.user_id) is None:
            raise unknown_reference("user_id", "user", body.user_id)
        post = await state.writer.run(writes.create_post(body.user_id, body.title, body.body))
        state.active_users.touch(body.user_id)
        await state.cache.posts_changed(body.user_id)
        return PostOut.model_validate(post)


@router.post(
    "/posts/{post_id}/comments",
    status_code=status.HTTP_201_CREATED,
    responses={
        status.HTTP_404_NOT_FOUND: {"description": "No such post."},
        422: {"description": "Invalid body, or the author does not exist."},
    },
)
async def create_comment(
    post_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: CommentCreate,
    session: SessionDep,
    state: StateDep,
) -> CommentOut:
    """A comment on a post: 404 when the post does not exist, else 422 when the author does not."""
    with state.metrics.timer("comment_create"):
        if await state.cache.user(session, body.user_id) is None:
            if await state.cache.post_author(session, post_id) is None:
                raise _no_such_post(post_id)
            raise unknown_reference("user_id", "user", body.user_id)
        written = await state.writer.run(writes.create_comment(post_id, body.user_id, body.body))
        if written is None:
            raise _no_such_post(post_id)
        comment, author_id = written
        state.active_users.touch(body.user_id)
        await state.cache.posts_changed(author_id)
        return CommentOut.model_validate(comment)


def _no_such_post(post_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"post {post_id} does not exist")
