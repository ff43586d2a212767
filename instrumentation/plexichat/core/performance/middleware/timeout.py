"""Answer 504 Gateway Timeout when the app takes longer than ``request_timeout`` seconds.

The request's task is cancelled at the deadline (its database session rolls back as on any
cancellation). A response that already started cannot change its status: it is cut off.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

from plexichat.observability.metrics.instruments import CounterSeries
from plexichat.observability.responses import TrackedSend, plain_text


class TimeoutMiddleware:
    """ASGI middleware cancelling an HTTP request still running after ``timeout_s`` seconds: 504
    when its response has not started, else the ``TimeoutError`` cuts the response off; either way
    it counts in ``rejected``."""

    def __init__(self, app: ASGIApp, *, timeout_s: float, rejected: CounterSeries) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.rejected = rejected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app under the deadline (other scopes without one)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = TrackedSend(send)
        try:
            async with asyncio.timeout(self.timeout_s):
                await self.app(scope, receive, tracked)
        except TimeoutError:
            self.rejected.value += 1
            if tracked.started:
                raise
            await plain_text(send, 504, f"request took longer than {self.timeout_s:g} s\n")
