"""Finished spans are queued as plain tuples and exported over OTLP by one background thread.

The request path only appends a tuple to a bounded ``deque`` (thread-safe, no lock). The
exporter thread wakes every ``delay`` seconds, or as soon as a batch is full, encodes with
:class:`~plexichat.observability.tracing.encoding.SpanEncoder` and sends with the configured
transport: OTLP/HTTP (``POST {endpoint}/v1/traces``, protobuf, keep-alive) or OTLP/gRPC
(the ``grpc`` extra). A full queue drops spans and counts them; a failing or slow receiver
costs the export thread its timeout and a log line (rate-limited), never a request.

Forked children (``gunicorn --preload`` builds the app, tracer included, before forking the
workers) start their own thread with an empty queue and their own connection: threads do
not survive ``fork()``, the queued spans are the parent's to send, and a connection shared
with the parent would interleave two processes' bytes.
"""

from __future__ import annotations

import http.client
import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from plexichat.observability.tracing.encoding import AttrValue, SpanEncoder

log = logging.getLogger("plexichat.observability.tracing.export")

SpanRecord = tuple[int, int, int, str, str, int, int, int, tuple[tuple[str, AttrValue], ...], bool]
Transport = Callable[[bytes], None]


class HttpTransport:
    """POSTs OTLP/protobuf to ``{endpoint}/v1/traces`` over one keep-alive connection."""

    def __init__(self, endpoint: str, headers: Mapping[str, str], timeout: float) -> None:
        url = urlsplit(endpoint)
        self._https = url.scheme == "https"
        self._host = url.hostname or "localhost"
        self._port = url.port or (443 if self._https else 80)
        self._path = url.path.rstrip("/") + "/v1/traces"
        self._headers = {"Content-Type": "application/x-protobuf", **headers}
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def __call__(self, payload: bytes) -> None:
        """POST one encoded export request; ``OSError`` on a connection failure or a non-2xx
        answer (the connection is reopened next time)."""
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            self._conn = cls(self._host, self._port, timeout=self._timeout)
        try:
            self._conn.request("POST", self._path, body=payload, headers=self._headers)
            response = self._conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            self._conn.close()
            self._conn = None
            raise
        if response.status >= 300:
            raise OSError(f"OTLP receiver answered HTTP {response.status}")

    def after_fork(self) -> None:
        """In a forked child: the parent's connection is the parent's."""
        if self._conn is not None:
            self._conn.close()  # this process's descriptor only; the parent's stays open
            self._conn = None


class GrpcTransport:
    """Calls ``TraceService/Export`` with the pre-encoded request bytes."""

    def __init__(self, endpoint: str, headers: Mapping[str, str], timeout: float) -> None:
        self._url = urlsplit(endpoint if "://" in endpoint else f"http://{endpoint}")
        self._metadata = tuple((k.lower(), v) for k, v in headers.items())
        self._timeout = timeout
        self._connect()

    def _connect(self) -> None:
        import grpc

        target = f"{self._url.hostname}:{self._url.port or 4317}"
        channel = (
            grpc.secure_channel(target, grpc.ssl_channel_credentials())
            if self._url.scheme == "https"
            else grpc.insecure_channel(target)
        )
        self._channel = channel
        self._export: Any = channel.unary_unary(
            "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
        )

    def __call__(self, payload: bytes) -> None:
        """Send one encoded export request; gRPC's error when the call fails or times out."""
        self._export(payload, timeout=self._timeout, metadata=self._metadata)

    def after_fork(self) -> None:
        """In a forked child: a channel of its own (gRPC channels do not survive a fork)."""
        self._connect()


class SpanExporter:
    """The bounded queue and the thread that drains it."""

    def __init__(
        self,
        encoder: SpanEncoder,
        transport: Transport,
        *,
        max_queue: int = 4096,
        max_batch: int = 512,
        delay: float = 1.0,
    ) -> None:
        self._encoder = encoder
        self._transport = transport
        self._max_queue = max_queue
        self._max_batch = max_batch
        self._delay = delay
        self.dropped = 0
        self._start()
        ref = weakref.WeakMethod(self._after_fork)
        os.register_at_fork(after_in_child=lambda: (method := ref()) is not None and method())

    def _start(self) -> None:
        self._queue: deque[SpanRecord] = deque()
        self._wake = threading.Event()
        self._flushes: deque[threading.Event] = deque()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="plexichat-span-export", daemon=True)
        self._thread.start()

    def _after_fork(self) -> None:
        if self._stopping:
            return
        after_fork = getattr(self._transport, "after_fork", None)
        if after_fork is not None:
            after_fork()
        self._start()

    def submit(self, record: SpanRecord) -> None:
        """Queue a finished span (called on the request path: cheap, never blocks)."""
        queue = self._queue
        if len(queue) >= self._max_queue:
            self.dropped += 1
            return
        queue.append(record)
        if len(queue) == self._max_batch:
            self._wake.set()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self._delay)
            self._wake.clear()
            flushes = [self._flushes.popleft() for _ in range(len(self._flushes))]
            self._drain()  # everything queued before those flushes asked, and more
            for done in flushes:
                done.set()
        self._drain()

    def _drain(self) -> None:
        queue, encode = self._queue, self._encoder.span
        while queue:
            batch = []
            for _ in range(min(len(queue), self._max_batch)):
                batch.append(encode(*queue.popleft()))
            try:
                self._transport(self._encoder.request(batch))
            except Exception as exc:  # the receiver's problem must not end the thread
                log.warning("OTLP span export failed (%d spans lost): %s", len(batch), exc)

    def flush(self, timeout: float) -> bool:
        """Export what is queued now, on the export thread (the one owner of the connection);
        wait at most ``timeout`` seconds. False when it did not finish in time."""
        if self._stopping or not self._thread.is_alive():
            return False
        done = threading.Event()
        self._flushes.append(done)
        self._wake.set()
        return done.wait(timeout)

    def shutdown(self, timeout: float) -> None:
        """Export what is queued (bounded by ``timeout``) and stop the thread."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout)
