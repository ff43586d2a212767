"""Fixtures: a service on a tmp_path SQLite database, driven in-process through ASGI."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from plexichat.config import Settings, load_settings
from plexichat.service import create_app


class RecordingMetrics:
    """A stand-in performance logger that remembers what the service recorded."""

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter()
        self.gauges: dict[str, float] = {}
        self.timed: Counter[str] = Counter()

    def increment_counter(self, name: str) -> None:
        self.counters[name] += 1

    def record_gauge(self, name: str, value: float) -> None:
        self.gauges[name] = value

    @contextmanager
    def timer(self, name: str) -> Iterator[None]:
        try:
            yield
        finally:
            self.timed[name] += 1


def _settings(data_dir: Path, **service: Any) -> Settings:
    return load_settings(
        environ={},
        overrides={
            "service": {"data_dir": str(data_dir), **service},
            "performance": {"monitoring_enabled": False},
        },
    )


@pytest.fixture
def make_settings() -> Callable[..., Settings]:
    """``make_settings(data_dir, **service_keys)``: settings for a service with monitoring off."""
    return _settings


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def metrics() -> RecordingMetrics:
    return RecordingMetrics()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, data_dir: Path) -> str:
    """Every service test runs on the embedded SQLite file and on a real PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{data_dir / 'plexichat.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def app(data_dir: Path, database_url: str, metrics: RecordingMetrics) -> FastAPI:
    return create_app(_settings(data_dir, database_url=database_url), metrics=metrics)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        yield client
