"""``plexichat-obs serve``: run the chat API under uvicorn.

One worker (the ``active_users`` tracker and the metrics live in the process). uvloop and
httptools when they are importable, asyncio and h11 otherwise. The access log is off unless asked
for: request metrics and traces cover it. SIGTERM and SIGINT shut down gracefully (uvicorn stops
accepting, finishes in-flight requests, then runs the lifespan shutdown).
"""

from __future__ import annotations

import importlib.util
import logging

import uvicorn

from plexichat.config import Settings, log_inert_keys
from plexichat.service.app import create_app

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def event_loop() -> str:
    """uvicorn's ``loop`` option: ``uvloop`` when importable, else ``asyncio``."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def http_protocol() -> str:
    """uvicorn's ``http`` option: ``httptools`` when importable, else ``h11``."""
    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


def serve(settings: Settings, *, log_level: str = "info", access_log: bool = False) -> int:
    """Serve until SIGTERM/SIGINT; 0 after a clean shutdown (uvicorn exits 3 if start-up fails)."""
    log_inert_keys(settings, logging.getLogger("plexichat.service"))
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.service.host,
        port=settings.service.port,
        loop=event_loop(),
        http=http_protocol(),
        lifespan="on",
        access_log=access_log,
        log_level=log_level,
        workers=1,
        server_header=False,
    )
    uvicorn.Server(config).run()
    return 0
