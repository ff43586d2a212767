"""The business metrics the service records, through the guide's performance logger.

``user_registrations`` and ``messages_sent`` count successful writes, ``api_calls`` counts requests
handled by an ``/api`` route (including ones rejected with 4xx), ``active_users`` is the gauge
published by ``activity.py``. The recorder is any object with the performance logger's three
methods, so tests can pass their own.

The routes time what users do with the logger's ``timer`` (``plexichat.operation.duration``, the
Business dashboard's "Timed operations p95"), one fixed name per route, so the ``operation``
label has as many values as this list: ``user_register`` (``POST /api/users``),
``message_send`` (``POST /api/messages``), ``post_create`` (``POST /api/posts``),
``comment_create`` (``POST /api/posts/{post_id}/comments``), ``feed_read``
(``GET /api/posts/popular``) and ``user_posts_read`` (``GET /api/users/{user_id}/posts``). A
request that fails in the handler (404, 409, 422) is timed too: a slow failure is still slow.
On this hot path the timer is a plain ``with``: ``async with`` only wraps the same two calls in
two coroutines. That costs ~0.9 µs a request with tracing off (docs/benchmarks.md); in a
sampled request the timer also opens the operation's span, between the request's span and its
statements'.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from plexichat.core.logging_unified import get_performance_logger


class MetricsRecorder(Protocol):
    """The part of ``plexichat.core.logging_unified.PerformanceLogger`` the service uses."""

    def increment_counter(self, name: str) -> object:
        """Add one to counter ``plexichat.<name>``."""

    def record_gauge(self, name: str, value: float) -> object:
        """Set gauge ``plexichat.<name>`` to ``value``."""

    def timer(self, name: str) -> AbstractContextManager[object]:
        """Time a ``with`` block as operation ``name`` of ``plexichat.operation.duration``."""


def performance_logger() -> MetricsRecorder:
    """The process-wide performance logger of ``plexichat.core.logging_unified``."""
    return get_performance_logger()
