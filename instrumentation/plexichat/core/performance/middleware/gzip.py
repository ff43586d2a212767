"""Gzip responses of at least ``min_size`` bytes for clients that accept it.

A response is compressed when the client sent ``Accept-Encoding: gzip``, the response has no
``Content-Encoding`` yet, its type is not already compressed (images, archives...), and its
body -- known from ``Content-Length`` or from a first body message with nothing after it --
is at least ``min_size`` bytes; streamed bodies of unknown length are compressed as they go.
Each compressed response adds its sizes before and after to the compression counters, whose
ratio is the compression ratio.
"""

from __future__ import annotations

import zlib

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plexichat.observability.metrics.instruments import CounterSeries

_INCOMPRESSIBLE = ("image/", "video/", "audio/", "application/zip", "application/gzip")


class GzipMiddleware:
    """ASGI middleware compressing responses of at least ``min_size`` bytes at zlib ``level`` (1-9)
    (see the module docstring); adds each compressed response's sizes before and after to
    ``bytes_in`` and ``bytes_out``."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        min_size: int,
        level: int,
        bytes_in: CounterSeries,
        bytes_out: CounterSeries,
    ) -> None:
        self.app = app
        self.min_size = min_size
        self.level = level
        self.bytes_in = bytes_in
        self.bytes_out = bytes_out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Wrap the response of an HTTP request that accepts gzip; pass anything else through."""
        if scope["type"] != "http" or "gzip" not in Headers(scope=scope).get("accept-encoding", ""):
            await self.app(scope, receive, send)
            return
        await _Responder(self, send).run(self.app, scope, receive)


class _Responder:
    def __init__(self, owner: GzipMiddleware, send: Send) -> None:
        self.owner = owner
        self.send = send
        self.start: Message | None = None
        self.compressor: zlib._Compress | None = None
        self.passthrough = False
        self.size_in = 0
        self.size_out = 0

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive) -> None:
        await app(scope, receive, self.on_message)

    async def on_message(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = Headers(raw=message["headers"])
            length = headers.get("content-length")
            if (
                "content-encoding" in headers
                or headers.get("content-type", "").startswith(_INCOMPRESSIBLE)
                or (length is not None and int(length) < self.owner.min_size)
            ):
                self.passthrough = True
                await self.send(message)
            else:
                self.start = message
            return
        if message["type"] != "http.response.body" or self.passthrough:
            await self.send(message)
            return
        body: bytes = message.get("body", b"")
        more = bool(message.get("more_body", False))
        if self.compressor is None:
            assert self.start is not None
            if not more and len(body) < self.owner.min_size:
                self.passthrough = True
                await self.send(self.start)
                await self.send(message)
                return
            self.compressor = zlib.compressobj(self.owner.level, zlib.DEFLATED, 31)
            headers = MutableHeaders(raw=self.start["headers"])
            headers["content-encoding"] = "gzip"
            headers.add_vary_header("Accept-Encoding")
            if more:
                del headers["content-length"]
            out = self.compressor.compress(body)
            if not more:
                out += self.compressor.flush()
                headers["content-length"] = str(len(out))
            await self.send(self.start)
        else:
            out = self.compressor.compress(body)
            if not more:
                out += self.compressor.flush()
        self.size_in += len(body)
        self.size_out += len(out)
        await self.send({"type": "http.response.body", "body": out, "more_body": more})
        if not more:
            self.owner.bytes_in.value += self.size_in
            self.owner.bytes_out.value += self.size_out
