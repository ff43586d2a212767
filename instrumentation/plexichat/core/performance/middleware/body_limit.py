"""Refuse request bodies over ``max_request_size`` with 413 Content Too Large.

A declared ``Content-Length`` over the limit is refused before the app runs; a body that
turns out larger while streaming (chunked uploads) is refused as soon as it passes the limit,
if the response has not started yet.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plexichat.observability.metrics.instruments import CounterSeries
from plexichat.observability.responses import TrackedSend, plain_text


class _TooLargeError(Exception):
    pass


class BodySizeLimitMiddleware:
    """ASGI middleware answering 413 to request bodies over ``max_size`` bytes (see the module
    docstring), adding one to ``rejected`` for each refusal."""

    def __init__(self, app: ASGIApp, *, max_size: int, rejected: CounterSeries) -> None:
        self.app = app
        self.max_size = max_size
        self.rejected = rejected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass an HTTP request on with its body bytes counted (other scopes untouched); 413 once
        they pass the limit, unless the response has started (then the error propagates)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > self.max_size:
                    await self._refuse(send)
                    return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_size:
                    raise _TooLargeError
            return message

        tracked = TrackedSend(send)
        try:
            await self.app(scope, limited_receive, tracked)
        except _TooLargeError:
            if tracked.started:
                raise
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        self.rejected.value += 1
        await plain_text(
            send, 413, f"request body larger than the limit of {self.max_size} bytes\n"
        )
