"""Pieces of the service on their own: the pool mapping, URL checks, the active-users tracker."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from plexichat.service.activity import ActiveUsers
from plexichat.service.db_engine import (
    DatabaseURLError,
    PoolSettings,
    create_engine,
    engine_options,
    masked,
    parse_url,
)

GUIDE_PRODUCTION_POOL = PoolSettings(
    min_size=10, max_size=50, max_overflow=100, pool_timeout=30, prepared_statement_cache_size=1000
)


def test_postgres_pool_maps_max_size_overflow_and_timeout() -> None:
    options = engine_options(make_url("postgresql+asyncpg://u@h/db"), GUIDE_PRODUCTION_POOL)
    assert options == {
        "pool_size": 50,
        "max_overflow": 100,
        "pool_timeout": 30,
        "pool_pre_ping": True,
        "connect_args": {"prepared_statement_cache_size": 1000},
    }


def test_sqlite_pool_has_no_overflow() -> None:
    options = engine_options(make_url("sqlite+aiosqlite:///x.db"), GUIDE_PRODUCTION_POOL)
    assert options == {
        "pool_size": 50,
        "max_overflow": 0,
        "pool_timeout": 30,
        "connect_args": {"cached_statements": 1000},
    }


async def test_sqlite_engine_creates_the_data_dir(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/a/b/p.db", GUIDE_PRODUCTION_POOL)
    try:
        assert (tmp_path / "a" / "b").is_dir()
        assert engine.pool.size() == 50  # type: ignore[attr-defined]
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL"),
        ("sqlite:///x.db", "driver 'pysqlite'"),
        ("sqlite+aiosqlite://", "in-memory SQLite"),
    ],
)
def test_unusable_urls_are_refused_with_a_reason(url: str, message: str) -> None:
    with pytest.raises(DatabaseURLError, match=message):
        create_engine(url, GUIDE_PRODUCTION_POOL)


SECRET = "s3cr3t-pw"


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+asyncpg://app:{SECRET}@db:port/chat",  # a port that is not a number
        f"postgres ql://app:{SECRET}@db/chat",  # no scheme SQLAlchemy parses
        f"postgresql+asyncpg://app:{SECRET}@[::1/chat",  # an unclosed IPv6 host
        f"postgresql+asyncpg://app:{SECRET[:3]}@{SECRET[4:]}@db:x/chat",  # a raw @ in it
    ],
)
def test_a_bad_url_is_refused_with_its_password_masked(url: str) -> None:
    with pytest.raises(DatabaseURLError, match="is not a database URL") as refused:
        parse_url(url)
    shown = "".join(traceback.format_exception(refused.value))  # causes and context too
    assert SECRET[:3] not in shown
    assert SECRET[4:] not in shown
    assert "app:***@" in str(refused.value)


def test_masked_hides_only_the_password() -> None:
    assert masked(f"postgresql+asyncpg://app:{SECRET}@db:5432/chat") == (
        "postgresql+asyncpg://app:***@db:5432/chat"
    )
    assert masked("postgresql+asyncpg://p%40ss@db/chat") == "postgresql+asyncpg://p%40ss@db/chat"
    assert masked("sqlite+aiosqlite:///data/x.db") == "sqlite+aiosqlite:///data/x.db"


def test_postgres_without_asyncpg_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(DatabaseURLError, match=r"plexichat-observability\[postgres\]"):
        parse_url("postgresql+asyncpg://u@h/db")


def test_active_users_counts_distinct_writers_within_the_window() -> None:
    now = [0.0]
    tracker = ActiveUsers(window_s=900, clock=lambda: now[0])
    tracker.touch(1)
    tracker.touch(2)
    tracker.touch(1)
    assert tracker.count() == 2
    now[0] = 600.0
    tracker.touch(3)
    tracker.touch(1)
    now[0] = 1000.0  # user 2 last wrote at 0, more than 900 s ago
    assert tracker.count() == 2
    now[0] = 1601.0
    assert tracker.count() == 0
