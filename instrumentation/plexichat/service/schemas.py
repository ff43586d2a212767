"""Request and response bodies of the chat API (pydantic v2).

Requests reject unknown fields and bound every length, so bad input is a 422 that names the field.
IDs are positive 64-bit integers; timestamps are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MAX_ID = 2**63 - 1
"""Largest ID a client may send (signed 64-bit, what both backends store)."""

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Username = Annotated[
    str,
    StringConstraints(min_length=3, max_length=32, pattern=r"^[a-z0-9_]+$"),
    Field(description="3-32 characters: lowercase letters, digits, underscore."),
]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
MessageBody = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
PostBody = Annotated[str, StringConstraints(min_length=1, max_length=10_000)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class UserCreate(_Request):
    """A registration: a unique username and a display name."""

    username: Username
    display_name: DisplayName


class UserOut(_Response):
    """A user's profile."""

    id: int
    username: str
    display_name: str
    created_at: datetime


class MessageCreate(_Request):
    """A direct message to send; both users must exist."""

    sender_id: Id
    recipient_id: Id
    body: MessageBody


class MessageOut(_Response):
    """A direct message as stored."""

    id: int
    sender_id: int
    recipient_id: int
    body: str
    created_at: datetime


class PostCreate(_Request):
    """A post to write; the author must exist."""

    user_id: Id
    title: Title
    body: PostBody


class PostOut(_Response):
    """A post as stored."""

    id: int
    user_id: int
    title: str
    body: str
    created_at: datetime


class PostSummary(_Response):
    """A post with its author's username and its number of comments."""

    id: int
    user_id: int
    username: str
    title: str
    body: str
    created_at: datetime
    comment_count: int


class CommentCreate(_Request):
    """A comment to write; the author must exist."""

    user_id: Id
    body: MessageBody


class CommentOut(_Response):
    """A comment as stored."""

    id: int
    post_id: int
    user_id: int
    body: str
    created_at: datetime


class Health(BaseModel):
    """The answer of the health probes."""

    status: str
