"""A lean HTTP/1.1 client for the load generator: keep-alive connections, one request at a time
on each, responses parsed by ``httptools`` (C; it comes with ``uvicorn[standard]``).

Why not httpx: with it the generator used ~65 % of its core for ~270 req/s (issue 11), so runs
at the guide's 1,000 req/s measured the generator, not the server.
This client does only what loadgen needs -- one ``http://`` origin, JSON bodies, responses with
``Content-Length`` or chunked (gzip accepted, as browsers and httpx do, and decoded), a
per-request timeout -- at ~50 µs of the generator's CPU per request all told (19 % of one
core at 4,000 req/s of the mix against a trivial server, ``docs/benchmarks.md``).

A connection is opened when a request finds none idle (``Client.connections`` counts them); a
connection the server closes, or that errs, is dropped from the pool, and so is one that sat
idle for ``IDLE_TIMEOUT_S``: servers close idle keep-alive connections (uvicorn after 5 s,
gunicorn 2 s), and a request sent on one at the moment the server closes it fails without the
server having done anything wrong. The client closes first, as clients should keep their idle
timeout below the server's, so such a race is never counted against the server.
"""

from __future__ import annotations

import asyncio
import gzip
from collections import deque
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import httptools

IDLE_TIMEOUT_S = 1.5
"""A pooled connection idle this long is closed instead of reused (below gunicorn's 2 s and
uvicorn's 5 s keep-alive)."""


class RequestTimeoutError(Exception):
    """No complete response within the timeout (the connection was closed)."""


class ConnectError(OSError):
    """The connection failed or was closed before a complete response. ``kind`` says which:
    ``connect`` (no connection), ``closed`` (closed before a complete response on a new
    connection), ``closed_reused`` (the same on a connection that had served a request: the
    message gives how long it had been idle), ``unparsable`` (not an HTTP response)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Response:
    """A response as the run counts it: status, body (as received) and the server's
    ``RateLimit-Policy`` header."""

    status: int
    body: bytes
    ratelimit_policy: str | None


class _Connection(asyncio.Protocol):
    """One keep-alive connection: ``send`` a request, its future gets the ``Response``."""

    def __init__(self, pool: Client) -> None:
        self._pool = pool
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._future: asyncio.Future[Response] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._body: list[bytes] = []
        self._policy: str | None = None
        self._gzip = False
        self.closed = False
        self.served = 0
        """Responses completed on this connection."""
        self.idle_since = 0.0
        """When it last went back to the pool (the loop's clock)."""
        self._idle_before_send = 0.0

    # -- asyncio.Protocol ----------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectError(f"unparsable response: {exc}", "unparsable"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._pool._forget(self)
        reason = f"connection closed: {exc!r}" if exc else "connection closed"
        if self.served:
            reason += f" (reused after {self._idle_before_send:.3f} s idle)"
            self._fail(ConnectError(reason, "closed_reused"))
        else:
            self._fail(ConnectError(reason, "closed"))

    # -- httptools callbacks -------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered == b"ratelimit-policy":
            self._policy = value.decode("latin-1")
        elif lowered == b"content-encoding":
            self._gzip = value.strip().lower() == b"gzip"

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        future, self._future = self._future, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        body = b"".join(self._body)
        if self._gzip:
            body = gzip.decompress(body)
        response = Response(self._parser.get_status_code(), body, self._policy)
        self._body = []
        self._policy = None
        self._gzip = False
        self.served += 1
        if not self._parser.should_keep_alive():
            self.close()
        else:
            self._pool._release(self)
        if future is not None and not future.done():
            future.set_result(response)

    # -- ours -----------------------------------------------------------------------------
    def send(self, request: bytes, timeout_s: float) -> asyncio.Future[Response]:
        assert self._transport is not None
        loop = self._pool.loop
        future: asyncio.Future[Response] = loop.create_future()
        self._future = future
        self._idle_before_send = loop.time() - self.idle_since
        self._timer = loop.call_later(timeout_s, self._timed_out)
        self._transport.write(request)
        return future

    def _timed_out(self) -> None:
        self._timer = None
        self._fail(RequestTimeoutError("no response within the timeout"))
        self.close()

    def _fail(self, exc: Exception) -> None:
        future, self._future = self._future, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if future is not None and not future.done():
            future.set_exception(exc)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self._transport is not None:
                self._transport.abort()


class Client:
    """Requests to one ``http://host:port`` origin over a pool of keep-alive connections."""

    def __init__(self, url: str, timeout_s: float, idle_timeout_s: float = IDLE_TIMEOUT_S) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the load generator speaks plain http://host[:port], got {url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.timeout_s = timeout_s
        self.idle_timeout_s = idle_timeout_s
        self.loop = asyncio.get_running_loop()
        self._host_header = f"Host: {parts.netloc}\r\nAccept-Encoding: gzip\r\n".encode()
        self._idle: deque[_Connection] = deque()
        self._all: set[_Connection] = set()

    @property
    def connections(self) -> int:
        """Connections open now, idle or busy."""
        return len(self._all)

    async def request(
        self, method: str, path: str, body: bytes | None = None, headers: bytes = b""
    ) -> Response:
        """Send one request; ``headers`` are extra raw header lines (``b"Name: v\\r\\n"``).

        Raises ``ConnectError`` (refused, reset, closed early) or ``RequestTimeoutError``.
        """
        head = f"{method} {path} HTTP/1.1\r\n".encode() + self._host_header + headers
        if body is not None:
            head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        request = head + b"\r\n" + (body or b"")
        conn = await self._acquire()
        return await conn.send(request, self.timeout_s)

    async def close(self) -> None:
        """Abort every connection; requests still waiting fail with ``ConnectError``."""
        for conn in list(self._all):
            conn.close()
        self._all.clear()
        self._idle.clear()
        await asyncio.sleep(0)  # let the transports finish closing

    async def _acquire(self) -> _Connection:
        stale = self.loop.time() - self.idle_timeout_s
        while self._idle and self._idle[0].idle_since <= stale:  # oldest first
            old = self._idle.popleft()
            old.close()
            self._all.discard(old)
        while self._idle:  # the most recently used first: the others age out
            conn = self._idle.pop()
            if not conn.closed:
                return conn
            self._all.discard(conn)
        conn = _Connection(self)
        try:
            await asyncio.wait_for(
                self.loop.create_connection(lambda: conn, self.host, self.port), self.timeout_s
            )
        except (OSError, TimeoutError) as exc:
            message = f"cannot connect to {self.host}:{self.port}: {exc}"
            raise ConnectError(message, "connect") from exc
        self._all.add(conn)
        return conn

    def _release(self, conn: _Connection) -> None:
        if not conn.closed:
            conn.idle_since = self.loop.time()
            self._idle.append(conn)

    def _forget(self, conn: _Connection) -> None:
        self._all.discard(conn)
