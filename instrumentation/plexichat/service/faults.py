"""``FaultInjection``: the ``faults`` section as an ASGI middleware (off unless enabled).

Matching requests (``faults.routes``, globs over the request path) wait ``latency_ms``, then with
probability ``error_rate`` get a JSON ``status`` response (with ``spread_statuses``, one drawn
from 500-599) without reaching the app. It sits inside the observability middleware, so
injected failures are measured like real ones. The faults in force come from a
``FaultSwitch`` (the configured ones, or ``faults.control_file``'s).
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import random

from starlette.types import ASGIApp, Receive, Scope, Send

from plexichat.config.faults import FaultsConfig
from plexichat.observability.responses import respond
from plexichat.service.fault_switch import FaultSwitch

BODY = json.dumps({"detail": "injected fault (faults.enabled)"}).encode()


class FaultInjection:
    """Delay and fail requests whose path matches ``faults.routes``."""

    def __init__(self, app: ASGIApp, switch: FaultSwitch, rng: random.Random | None = None) -> None:
        self.app = app
        self.switch = switch
        self._rng = rng or random.Random()

    @staticmethod
    def _matches(faults: FaultsConfig, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, glob) for glob in faults.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Delay and perhaps fail one request whose path matches ``faults.routes``; pass
        everything else through."""
        faults = self.switch.faults()
        if not (
            faults.enabled and scope["type"] == "http" and self._matches(faults, scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if self._rng.random() >= faults.error_rate:
            await self.app(scope, receive, send)
            return
        status = self._rng.randint(500, 599) if faults.spread_statuses else faults.status
        await respond(send, status, BODY, "application/json")
