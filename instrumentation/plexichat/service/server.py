"""``plexichat-obs serve``: run the chat API under uvicorn.

One process by default; ``service.workers`` (``--workers N``) more runs N worker processes
(:mod:`plexichat.service.workers`). The event loop
is ``performance.async_settings.event_loop_policy`` (``uvloop`` needs the package; asking for it
without is an error), httptools when importable, else h11. At most
``resource_limits.max_connections`` connections and tasks are served at once (uvicorn answers
503 beyond). The performance log goes where ``performance_log_file`` says. The access log is
off unless asked for: request metrics and traces cover it; its lines end with the request's
``trace_id``/``span_id`` when the request is sampled. SIGTERM and SIGINT shut down
gracefully (uvicorn stops accepting, finishes in-flight requests, then runs the lifespan
shutdown).
"""

from __future__ import annotations

import copy
import importlib.util
import logging
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG, STARTUP_FAILURE

from plexichat.config import ConfigError, Settings, log_inert_keys, scalars
from plexichat.core.logging_unified import configure_performance_log
from plexichat.exit_code import ExitCode
from plexichat.observability.tracing.log_context import TRACE_CONTEXT_FORMAT, TraceContextFilter
from plexichat.service.app import create_app
from plexichat.service.resources import apply_open_files_limit
from plexichat.service.workers import Sources, check_workers, serve_workers


def event_loop(settings: Settings) -> str:
    """uvicorn's ``loop`` option: ``performance.async_settings.event_loop_policy``."""
    policy = settings.performance.async_settings.event_loop_policy
    if policy == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise ConfigError(
            "performance.async_settings.event_loop_policy",
            "'uvloop' is not installed (pip install uvloop, or set it to 'asyncio')",
        )
    return policy


def http_protocol() -> str:
    """uvicorn's ``http`` option: ``httptools`` when importable, else ``h11``."""
    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration, its access lines ending with the trace context."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"]["fmt"] += TRACE_CONTEXT_FORMAT
    config["filters"] = {"trace_context": {"()": TraceContextFilter}}
    config["handlers"]["access"]["filters"] = ["trace_context"]
    return config


def server_options(
    settings: Settings, *, log_level: str = "info", access_log: bool = False
) -> dict[str, Any]:
    """uvicorn's options for ``settings`` (per worker), the app aside."""
    return {
        "host": settings.service.host,
        "port": settings.service.port,
        "loop": event_loop(settings),
        "limit_concurrency": settings.performance.resource_limits.max_connections,
        "http": http_protocol(),
        "lifespan": "on",
        "access_log": access_log,
        "log_config": log_config(),
        "log_level": scalars.log_level(log_level).lower(),  # uvicorn's names are lowercase
        "server_header": False,
    }


def uvicorn_config(
    settings: Settings, *, log_level: str = "info", access_log: bool = False
) -> uvicorn.Config:
    """The one-process server's configuration for ``settings``."""
    options = server_options(settings, log_level=log_level, access_log=access_log)
    return uvicorn.Config(create_app(settings), workers=1, **options)


def serve(
    settings: Settings,
    *,
    log_level: str = "info",
    access_log: bool = False,
    sources: Sources | None = None,
) -> int:
    """Serve until SIGTERM/SIGINT; ``OK`` after a clean shutdown, ``FAILURE`` when start-up
    failed (uvicorn logs why). ``sources`` (where ``settings`` came from) lets workers rebuild
    them: needed with ``service.workers`` above 1."""
    log_inert_keys(settings, logging.getLogger("plexichat.service"))
    apply_open_files_limit(settings)  # before workers fork: they inherit it
    if settings.service.workers > 1:
        check_workers(settings)
        options = server_options(settings, log_level=log_level, access_log=access_log)
        return serve_workers(sources or Sources(), settings, options)
    configure_performance_log(settings)
    config = uvicorn_config(settings, log_level=log_level, access_log=access_log)
    try:
        uvicorn.Server(config).run()
    except SystemExit as exc:  # uvicorn's own status when start-up fails (lifespan, bind)
        if exc.code != STARTUP_FAILURE:
            raise
        return ExitCode.FAILURE
    return ExitCode.OK
