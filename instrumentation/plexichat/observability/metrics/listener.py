"""The optional second Prometheus port (``metrics.exporters.prometheus.port``).

In one process it listens from the start. In multi-worker mode only the elected worker
(:class:`~plexichat.observability.metrics.directory.Leadership`) binds it — every other
worker's bind would fail with "address in use", which makes uvicorn stop the whole server —
and the others try to take over once a second, so the port comes back within about a second
of its worker's death. Whichever worker serves it renders the merge of all workers.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server

from plexichat.observability.metrics.directory import Leadership

log = logging.getLogger("plexichat.observability")
RETRY_SECONDS = 1.0


class ExtraListener:
    """The Prometheus endpoint on a port of its own, in a thread of prometheus_client's (see the
    module docstring).

    Args:
        host: The address to bind.
        port: The port to bind.
        registry: The prometheus_client registry it renders.
        leadership: In multi-worker mode, the election that decides which worker binds; ``None``:
            bind now, in this process.
        ready: Whether this worker may campaign yet (its slot is claimed).
    """

    def __init__(
        self,
        host: str,
        port: int,
        registry: CollectorRegistry,
        leadership: Leadership | None = None,
        ready: Callable[[], bool] = lambda: True,
    ) -> None:
        self.host, self.port = host, port
        self._registry = registry
        self._leadership = leadership
        self._ready = ready
        self._server: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if leadership is None:
            self._bind()
        else:
            self._campaign_in_background()
            ref = weakref.WeakMethod(self._after_fork)
            os.register_at_fork(after_in_child=lambda: (method := ref()) is not None and method())

    def _campaign_in_background(self) -> None:
        self._thread = threading.Thread(
            target=self._campaign, name="plexichat-metrics-listener", daemon=True
        )
        self._thread.start()

    def _after_fork(self) -> None:
        """A forked worker campaigns for itself (threads do not survive ``fork()``)."""
        if not self._stop.is_set() and self._server is None:
            self._campaign_in_background()

    def _bind(self) -> None:
        self._server, _ = start_http_server(self.port, addr=self.host, registry=self._registry)

    def _campaign(self) -> None:
        assert self._leadership is not None
        while not self._stop.wait(RETRY_SECONDS):
            if self._ready() and self._leadership.try_acquire():
                try:
                    self._bind()
                except OSError as exc:
                    log.error("cannot serve metrics on %s:%s: %s", self.host, self.port, exc)
                return

    def shutdown(self) -> None:
        """Stop campaigning and close the listening socket, waiting for the campaign thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
