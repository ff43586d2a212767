"""``plexichat-obs receive``: a webhook receiver for Alertmanager that writes down what it gets.

Every ``POST`` (any path) must carry an Alertmanager webhook payload; each alert in it is
appended to the notification log as one JSON line (``Notification``) and printed as one human
line (status, alertname, severity, service, summary). ``GET /-/ready`` answers 200 once the
log is open, so a supervisor can wait for it. ``GET /arrivals`` answers, as JSON, when the last
notification of each receiver, alert and status arrived since the receiver started
(``plexichat.stack.arrivals``): ``status`` reads the Watchdog's heartbeat there. A body that is
not a webhook payload gets 400 with the reason and is logged to stderr; nothing is written for
it.

It is the receiver of ``plexichat-obs up`` and of the Compose stack, and the sink the
end-to-end tests read: an alert that reaches it has travelled Prometheus -> Alertmanager ->
webhook exactly as in production.
"""

from __future__ import annotations

import signal
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import TextIO

from plexichat.config.sizes import MiB
from plexichat.exit_code import ExitCode
from plexichat.stack.arrivals import ARRIVALS_PATH, Arrivals
from plexichat.stack.notifications import Notification, PayloadError, parse

MAX_BODY_BYTES = 4 * MiB
"""Alertmanager caps a delivery's alerts (``max_alerts``); 4 MiB is far above any real one."""


class NotificationLog:
    """Appends notifications to a JSON-lines file and echoes them; safe across threads."""

    def __init__(self, path: Path, echo: TextIO | None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file = path.open("a", encoding="utf-8")
        self._echo = echo
        self._lock = threading.Lock()

    def append(self, notification: Notification) -> None:
        """Write ``notification`` (flushed) and echo its human line."""
        with self._lock:
            self._file.write(notification.to_json() + "\n")
            self._file.flush()
            if self._echo is not None:
                self._echo.write(notification.line() + "\n")
                self._echo.flush()

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._file.close()


class _Handler(BaseHTTPRequestHandler):
    server: ReceiverServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path in ("/-/ready", "/-/healthy"):
            self._answer(HTTPStatus.OK, b"ready\n")
        elif self.path == ARRIVALS_PATH:
            report = self.server.arrivals.report().to_json() + "\n"
            self._answer(HTTPStatus.OK, report.encode(), "application/json")
        else:
            self._answer(
                HTTPStatus.NOT_FOUND,
                f"POST Alertmanager webhook payloads here; GET {ARRIVALS_PATH}\n".encode(),
            )

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"body too large\n")
            return
        body = self.rfile.read(length)
        try:
            notifications = list(parse(body))
        except PayloadError as exc:
            print(f"plexichat-obs receive: {self.path}: {exc}", file=sys.stderr, flush=True)
            self._answer(HTTPStatus.BAD_REQUEST, f"{exc}\n".encode())
            return
        for notification in notifications:
            self.server.log.append(notification)
            self.server.arrivals.record(notification)
        self._answer(HTTPStatus.OK, b"ok\n")

    def _answer(
        self, status: HTTPStatus, body: bytes, content_type: str = "text/plain; charset=utf-8"
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the notification lines are the log."""


class ReceiverServer(ThreadingHTTPServer):
    """The receiver's HTTP server: a thread per request, all appending to ``log`` and noting
    arrivals in ``arrivals``."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], log: NotificationLog) -> None:
        super().__init__(address, _Handler)
        self.log = log
        self.arrivals = Arrivals()


def serve(host: str, port: int, out: Path, echo: TextIO | None = sys.stdout) -> int:
    """Receive until SIGTERM or SIGINT; 0 afterwards."""
    log = NotificationLog(out, echo)
    server = ReceiverServer((host, port), log)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    bound_host, bound_port = server.server_address[:2]
    print(
        f"plexichat-obs receive: listening on http://{bound_host!s}:{bound_port}, "
        f"appending to {out}",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        log.close()
    return ExitCode.OK
