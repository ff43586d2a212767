"""The business metrics the service records, through the guide's performance logger.

``user_registrations`` and ``messages_sent`` count successful writes, ``api_calls`` counts requests
handled by an ``/api`` route (including ones rejected with 4xx), ``active_users`` is the gauge
published by ``activity.py``. The recorder is any object with the performance logger's two
methods, so tests can pass their own.
"""

from __future__ import annotations

from typing import Protocol

from plexichat.core.logging_unified import get_performance_logger


class MetricsRecorder(Protocol):
    """The part of ``plexichat.core.logging_unified.PerformanceLogger`` the service uses."""

    def increment_counter(self, name: str) -> object:
        """Add one to counter ``plexichat.<name>``."""

    def record_gauge(self, name: str, value: float) -> object:
        """Set gauge ``plexichat.<name>`` to ``value``."""


def performance_logger() -> MetricsRecorder:
    """The process-wide performance logger of ``plexichat.core.logging_unified``."""
    return get_performance_logger()
