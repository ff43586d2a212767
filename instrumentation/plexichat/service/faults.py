"""``FaultInjection``: the ``chaos`` section as an ASGI middleware (off unless enabled).

Matching requests (``chaos.routes``, globs over the request path) wait ``latency_ms``, then with
probability ``error_rate`` get a JSON ``status`` response without reaching the app. It sits
inside the observability middleware, so injected failures are measured like real ones. With
``chaos.control_file`` set, the faults in force come from that file (``FaultSwitch``).
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import random

from starlette.types import ASGIApp, Receive, Scope, Send

from plexichat.config.chaos import ChaosConfig
from plexichat.observability.responses import respond
from plexichat.service.fault_switch import FaultSwitch

BODY = json.dumps({"detail": "injected fault (chaos.enabled)"}).encode()


class FaultInjection:
    """Delay and fail requests whose path matches ``chaos.routes``."""

    def __init__(self, app: ASGIApp, chaos: ChaosConfig, rng: random.Random | None = None) -> None:
        self.app = app
        self.chaos = chaos
        self.switch = FaultSwitch(chaos) if chaos.control_file is not None else None
        self._rng = rng or random.Random()

    @staticmethod
    def matches(chaos: ChaosConfig, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, glob) for glob in chaos.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chaos = self.switch.faults() if self.switch is not None else self.chaos
        if not (chaos.enabled and scope["type"] == "http" and self.matches(chaos, scope["path"])):
            await self.app(scope, receive, send)
            return
        if chaos.latency_ms:
            await asyncio.sleep(chaos.latency_ms / 1000)
        if self._rng.random() >= chaos.error_rate:
            await self.app(scope, receive, send)
            return
        await respond(send, chaos.status, BODY, "application/json")
