"""The chat service's tables, as typed SQLAlchemy 2 ORM classes.

Tables are created at start-up with ``Base.metadata.create_all`` (see ``db_engine.py``); there is
no migrations tool yet, so a schema change means a fresh database until one is added.

Timestamps are stored as naive UTC (``UTCDateTime``) and come back timezone-aware in UTC on every
backend, so SQLite and PostgreSQL answer alike.

``posts.comment_count`` is kept by the writes (a comment's transaction increments its post's
count), so no read aggregates over the comments: both listings are one index range scan of
``limit`` rows, whatever the size of the tables (``queries.py``). The indexes are the ones those
scans need: ``posts (user_id, created_at, id)`` for a user's posts newest first,
``posts (comment_count, created_at, id)`` for the popular posts, ``comments (post_id)``.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# BIGINT on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY" is the rowid alias.
IdType = BigInteger().with_variant(Integer(), "sqlite")


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and returned timezone-aware in UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """To the database: naive UTC; a naive ``datetime`` is a ``ValueError``."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; the service stores UTC-aware timestamps only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """From the database: the same instant, aware in UTC."""
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of the chat service's tables."""


class User(Base):
    """A registered user (``username`` unique)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class Message(Base):
    """A direct message from one user to another."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    sender_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    recipient_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class Post(Base):
    """A post, with the count of its comments kept by the writes."""

    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_posts_popular", "comment_count", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
    comment_count: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))


class Comment(Base):
    """A comment on a post."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    post_id: Mapped[int] = mapped_column(IdType, ForeignKey("posts.id"), index=True)
    user_id: Mapped[int] = mapped_column(IdType, ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
