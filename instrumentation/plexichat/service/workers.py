"""``plexichat-obs serve --workers N``: N uvicorn worker processes on one socket.

Before any worker starts, the parent

* refuses without the Redis tier (``performance.caching.redis_cache.enabled``): each worker
  would keep its own L1, query cache and rate limiter, so a post written through one worker
  would stay stale in another and the rate limit would become N times the configured one;
* creates the schema and seeds the demo data once (the workers' lifespans skip both, so N
  processes never race to create tables or seed twice);
* makes the multiprocess directory for the metrics under ``/dev/shm`` (removed at exit),
  unless ``performance.observability.multiprocess_dir`` names one (the bundles mount a sized
  tmpfs there);
* hands the workers the sources of its settings — profile, ``--config`` file and the
  command-line overrides — as JSON in ``PLEXICHAT_SERVE_ARGUMENTS``, so each worker rebuilds
  the same settings from the same files and environment (:func:`worker_app`).

uvicorn's supervisor restarts a worker that dies; the successor claims the dead worker's slot
and continues its counters. A worker whose parent dies (even SIGKILLed) stops within a second
(:mod:`plexichat.service.parent`). Every worker serves the merged metrics of all of them.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from plexichat.config import ConfigError, Settings, load_settings
from plexichat.core.logging_unified import configure_performance_log
from plexichat.exit_code import ExitCode
from plexichat.service.app import create_app, prepare_database
from plexichat.service.db_engine import Database, PoolSettings, create_engine
from plexichat.service.parent import PARENT, follow_parent

ARGUMENTS = "PLEXICHAT_SERVE_ARGUMENTS"
SHARED_MEMORY = Path("/dev/shm")
_METRICS_DIR = ("performance", "observability", "multiprocess_dir")


@dataclass(frozen=True)
class Sources:
    """Where ``serve`` took its settings from, so that a worker can take them again."""

    profile: str | None = None
    config_file: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)

    def load(self) -> Settings:
        """The settings these sources give (files and environment read again)."""
        return load_settings(
            profile=self.profile, config_file=self.config_file, overrides=self.overrides or None
        )

    def with_override(self, path: tuple[str, ...], value: object) -> Sources:
        """These sources with the command-line override at ``path`` set to ``value``."""
        overrides = json.loads(json.dumps(self.overrides))
        node = overrides
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
        return Sources(self.profile, self.config_file, overrides)

    def to_json(self) -> str:
        """These sources as JSON, for ``PLEXICHAT_SERVE_ARGUMENTS``."""
        return json.dumps(
            {"profile": self.profile, "config_file": self.config_file, "overrides": self.overrides}
        )

    @classmethod
    def from_json(cls, text: str) -> Sources:
        """The sources :meth:`to_json` wrote."""
        data = json.loads(text)
        return cls(data["profile"], data["config_file"], data["overrides"])


def check_workers(settings: Settings) -> None:
    """Refuse more than one worker without the shared (Redis) cache tier."""
    if settings.service.workers > 1 and not settings.performance.caching.redis_cache.enabled:
        raise ConfigError(
            "service.workers",
            f"{settings.service.workers} workers need the Redis tier: set "
            "performance.caching.redis_cache.enabled (without it each worker keeps its own "
            "cache and rate limiter, so reads go stale across workers and the rate limit "
            "multiplies)",
        )


async def _prepare(settings: Settings) -> None:
    database = Database(
        create_engine(settings.service.effective_database_url, PoolSettings.from_settings(settings))
    )
    try:
        await prepare_database(database, settings)
    finally:
        await database.dispose()


def serve_workers(sources: Sources, settings: Settings, options: dict[str, Any]) -> int:
    """Prepare the database once, then run ``settings.service.workers`` workers with the
    uvicorn ``options`` until SIGTERM/SIGINT."""
    check_workers(settings)
    asyncio.run(_prepare(settings))
    made: Path | None = None
    if settings.performance.observability.multiprocess_dir is None:
        base = SHARED_MEMORY if SHARED_MEMORY.is_dir() else None
        made = Path(tempfile.mkdtemp(prefix="plexichat-metrics-", dir=base))
        sources = sources.with_override(_METRICS_DIR, str(made))
    os.environ[ARGUMENTS] = sources.to_json()
    os.environ[PARENT] = str(os.getpid())
    try:
        uvicorn.run(
            f"{__name__}:worker_app",
            factory=True,
            workers=settings.service.workers,
            **options,
        )
    finally:
        del os.environ[ARGUMENTS], os.environ[PARENT]
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
    return ExitCode.OK


def worker_app() -> FastAPI:
    """The app of one worker (uvicorn's factory): the serve command's settings, rebuilt; the
    worker stops when its parent dies (:mod:`plexichat.service.parent`)."""
    follow_parent(int(os.environ[PARENT]))
    settings = Sources.from_json(os.environ[ARGUMENTS]).load()
    configure_performance_log(settings)
    return create_app(settings, prepare=False)
