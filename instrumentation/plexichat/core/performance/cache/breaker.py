"""A circuit breaker for a remote tier: stop calling a dead Redis, probe it, recover.

``closed``: calls go through; ``failure_threshold`` consecutive failures open it. ``open``:
calls are refused at once (the caller falls back) for ``reset_timeout`` seconds, then one call
is let through as a probe (``half_open``): success closes the breaker, failure opens it again.
Every change of state calls ``on_change(old, new)`` (the tier-state metric and log line).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half_open"]
STATES: tuple[State, ...] = ("closed", "open", "half_open")


class CircuitBreaker:
    """The closed / open / half-open state of one remote tier (see the module docstring).

    Callers ask :meth:`allow` before a call and report it with :meth:`success` or :meth:`failure`.
    Not thread-safe: the Redis tier uses it from one event loop.

    Args:
        failure_threshold: Consecutive failures that open the breaker (at least 1).
        reset_timeout: Seconds the breaker stays open before one probe is let through (> 0).
        clock: Monotonic seconds (tests pass a fake one).
        on_change: Called with ``(old, new)`` on every change of state.

    Raises:
        ValueError: ``failure_threshold`` or ``reset_timeout`` out of range.
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 3,
        reset_timeout: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[State, State], None] | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if reset_timeout <= 0:
            raise ValueError(f"reset_timeout must be > 0 seconds, got {reset_timeout}")
        self.failure_threshold = failure_threshold
        self.reset_timeout = reset_timeout
        self._clock = clock
        self._on_change = on_change
        self.state: State = "closed"
        self.failures = 0
        self._opened_at = 0.0
        self._probing = False

    def allow(self) -> bool:
        """Whether a call may go to the tier now."""
        if self.state == "closed":
            return True
        if self.state == "open" and self._clock() - self._opened_at >= self.reset_timeout:
            self._move("half_open")
        if self.state == "half_open" and not self._probing:
            self._probing = True
            return True
        return False

    def success(self) -> None:
        """Report a call that worked: the failure count restarts and the breaker closes (a
        successful probe ends the outage)."""
        self.failures = 0
        self._probing = False
        if self.state != "closed":
            self._move("closed")

    def failure(self) -> None:
        """Report a failed call: the ``failure_threshold``-th consecutive one, or a failed probe,
        opens the breaker for ``reset_timeout`` seconds."""
        self._probing = False
        self.failures += 1
        if self.state == "half_open" or (
            self.state == "closed" and self.failures >= self.failure_threshold
        ):
            self._opened_at = self._clock()
            self._move("open")

    def _move(self, new: State) -> None:
        old, self.state = self.state, new
        if self._on_change is not None:
            self._on_change(old, new)
