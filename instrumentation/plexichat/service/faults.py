"""``FaultInjection``: the ``chaos`` section as an ASGI middleware (off unless enabled).

Matching requests (``chaos.routes``, globs over the request path) wait ``latency_ms``, then with
probability ``error_rate`` get a JSON ``status`` response without reaching the app. It sits
inside the observability middleware, so injected failures are measured like real ones.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import random

from starlette.types import ASGIApp, Receive, Scope, Send

from plexichat.config.chaos import ChaosConfig

BODY = json.dumps({"detail": "injected fault (chaos.enabled)"}).encode()


class FaultInjection:
    """Delay and fail requests whose path matches ``chaos.routes``."""

    def __init__(self, app: ASGIApp, chaos: ChaosConfig, rng: random.Random | None = None) -> None:
        self.app = app
        self.chaos = chaos
        self._rng = rng or random.Random()

    def matches(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, glob) for glob in self.chaos.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (self.chaos.enabled and scope["type"] == "http" and self.matches(scope["path"])):
            await self.app(scope, receive, send)
            return
        if self.chaos.latency_ms:
            await asyncio.sleep(self.chaos.latency_ms / 1000)
        if self._rng.random() >= self.chaos.error_rate:
            await self.app(scope, receive, send)
            return
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]
        await send({"type": "http.response.start", "status": self.chaos.status, "headers": headers})
        await send({"type": "http.response.body", "body": BODY})
