"""``create_app(settings)``: the PlexiChat chat API as a FastAPI application.

The lifespan creates the engine (pool mapped from ``performance.database.connection_pool``, see
``db_engine.py``), creates the tables, warms ``min_size`` connections, seeds the demo data on an
empty database, warms the cache, publishes the ``active_users`` gauge in the background, and on
shutdown stops that task, the writer and the background tasks, shuts telemetry down and
disposes the engine. The app's background work (cache warming, listing refreshes, preloading)
runs on one ``TaskRunner`` under ``performance.background_tasks``, shared with its cache.

Exactly one instrumentation runs: ours (``plexichat.observability``). FastAPI's built-in
OpenTelemetry support, which switches itself on whenever a global OTel provider is set, is turned
off through ``FastAPI(telemetry=...)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from plexichat.config import Settings
from plexichat.core.logging_unified import get_performance_logger
from plexichat.core.performance import CacheManager, LatencyOptimizer
from plexichat.core.performance.db_monitoring import ConnectionGauge, SlowQueryLog
from plexichat.core.performance.task_runner import TaskFailedError, TaskRunner
from plexichat.observability import Telemetry, __version__, instrument_app, instrument_engine
from plexichat.service import openapi
from plexichat.service.activity import ActiveUsers, SharedActiveUsers, publish_active_users
from plexichat.service.caching import ServiceCache, warm_cache
from plexichat.service.db_engine import Database, PoolSettings, create_engine, parse_url
from plexichat.service.fault_switch import FaultSwitch
from plexichat.service.faults import FaultInjection
from plexichat.service.health import router as health_router
from plexichat.service.metrics import MetricsRecorder, performance_logger
from plexichat.service.pressure import Pressure
from plexichat.service.resources import size_thread_pools
from plexichat.service.routes import api_router
from plexichat.service.seed import seed_demo_data
from plexichat.service.slow_queries import SlowQueries
from plexichat.service.state import STATE_KEY, ServiceState
from plexichat.service.writer import Writer

FASTAPI_TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
    "auto_configure": False,
}
"""FastAPI's own OpenTelemetry, switched off in every part: ``plexichat.observability`` does it."""
log = logging.getLogger("plexichat.service")


def _observe_engine(database: Database, telemetry: Telemetry | None) -> None:
    """Add database metrics and spans to the engine when the app is instrumented."""
    if telemetry is not None:
        instrument_engine(database.engine, telemetry)


async def prepare_database(database: Database, settings: Settings) -> None:
    """Create the schema and, when ``service.seed_demo_data``, seed an empty database."""
    await database.create_tables()
    if settings.service.seed_demo_data:
        await seed_demo_data(database)


async def _warm(tasks: TaskRunner, service_cache: ServiceCache) -> None:
    """The guide's cache warming, as a task (timeout, retries); the service starts cold when
    it fails (the runner has counted and logged why)."""
    try:
        await tasks.run("cache_warm", lambda: warm_cache(service_cache))
    except TaskFailedError as exc:
        log.warning("%s: starting with a cold cache", exc)


def create_app(
    settings: Settings, *, metrics: MetricsRecorder | None = None, prepare: bool = True
) -> FastAPI:
    """The chat API for ``settings``.

    ``metrics`` records the business metrics; by default the guide's performance logger.
    ``prepare=False``: the lifespan leaves schema and demo data alone (``serve --workers N``
    prepares them once, before the workers start). Raises ``DatabaseURLError`` at once when
    the database URL cannot be used.
    """
    parse_url(settings.service.effective_database_url)
    recorder = metrics if metrics is not None else performance_logger()
    pool = PoolSettings.from_settings(settings)
    interval_s = float(settings.performance.metrics_collection_interval)
    telemetry: Telemetry | None = None
    tasks = TaskRunner.from_settings(settings)
    cache = CacheManager(settings, tasks=tasks)
    slow_queries = SlowQueryLog.from_settings(settings)
    batch_size = settings.performance.latency_optimizer.query_optimization.batch_size
    # Fault injection: settings are frozen, so off means no fault code on any path.
    faults = FaultSwitch(settings.faults) if settings.faults.switchable else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(create_engine(settings.service.effective_database_url, pool))
        active_users: ActiveUsers | SharedActiveUsers = (
            ActiveUsers() if cache.redis is None else SharedActiveUsers(cache.redis)
        )
        publisher: asyncio.Task[None] | None = None
        writer = Writer(database.engine, batch_size)
        service_cache: ServiceCache | None = None
        executor = size_thread_pools(settings)
        connections: ConnectionGauge | None = None
        pressure: asyncio.Task[None] | None = None
        try:
            _observe_engine(database, telemetry)
            if faults is not None:  # after the instrumentation: the wait counts as query time
                SlowQueries(database.engine, faults)
                limit = settings.performance.resource_limits.max_memory_usage
                pressure = asyncio.create_task(
                    Pressure(faults, limit).run(), name="plexichat-fault-pressure"
                )
            if prepare:
                await prepare_database(database, settings)
            await database.warm_up(pool.min_size)
            cache.query.attach(database.engine)
            slow_queries.attach(database.engine)
            connections = ConnectionGauge(database.engine, get_performance_logger())
            service_cache = ServiceCache(cache, database, faults)
            await cache.start()
            await _warm(tasks, service_cache)
            writer.start()
            publisher = asyncio.create_task(
                publish_active_users(active_users, recorder, interval_s),
                name="plexichat-active-users",
            )
            setattr(
                app.state,
                STATE_KEY,
                ServiceState(database, recorder, active_users, service_cache, writer),
            )
            # Everything built so far lives as long as the process: move it out of the
            # collector's reach, so full collections (the tail latency of a busy service)
            # only walk what requests allocate.
            gc.freeze()
            yield
        finally:
            if hasattr(app.state, STATE_KEY):  # not when start-up failed before it was set
                delattr(app.state, STATE_KEY)
            for task in (publisher, pressure):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await writer.close()
            await tasks.close()
            await cache.close()
            slow_queries.detach()
            if connections is not None:
                connections.detach()
            if telemetry is not None:
                telemetry.shutdown()
            await database.dispose()
            executor.shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="PlexiChat",
        version=__version__,
        summary="The PlexiChat chat API: users, direct messages, posts and comments.",
        lifespan=lifespan,
        telemetry=FASTAPI_TELEMETRY_OFF,
    )
    app.include_router(api_router)
    app.include_router(health_router)
    openapi.install(app)
    if faults is not None:
        app.add_middleware(FaultInjection, switch=faults)  # inside the telemetry middleware
    telemetry = instrument_app(app, settings)  # None when monitoring is off
    LatencyOptimizer(settings, cache=cache).optimize_app(app)  # inside the telemetry middleware
    return app
