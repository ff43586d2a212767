"""OTLP/HTTP sink: ``python -m benchmarks.sink PORT``. Plays the collector in the benchmark.

Every POST is read in full and answered ``200`` with an empty protobuf body (an empty
``Export*ServiceResponse``). Bodies are only kept, not decoded, while load runs; ``GET /stats``
decodes them afterwards and returns, per path, the number of exports, bytes and spans (for
``/v1/traces``) as JSON, then forgets them. Its CPU is the collector's, not the service's.
"""

from __future__ import annotations

import argparse
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_lock = threading.Lock()
_bodies: dict[str, list[bytes]] = {}


def _spans(body: bytes) -> int:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    request.ParseFromString(body)
    return sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)


def stats() -> dict[str, dict[str, int]]:
    """Exports, bytes and (for traces) spans received per path since the last call."""
    with _lock:
        taken = dict(_bodies)
        _bodies.clear()
    out: dict[str, dict[str, int]] = {}
    for path, bodies in taken.items():
        entry = {"exports": len(bodies), "bytes": sum(len(b) for b in bodies)}
        if path.endswith("/v1/traces"):
            entry["spans"] = sum(_spans(b) for b in bodies)
        out[path] = entry
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        with _lock:
            _bodies.setdefault(self.path, []).append(body)
        self._reply(b"", "application/x-protobuf")

    def do_GET(self) -> None:
        if self.path != "/stats":
            self.send_error(404)
            return
        self._reply(json.dumps(stats()).encode(), "application/json")

    def _reply(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sink")
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
