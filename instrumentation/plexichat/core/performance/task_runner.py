"""``TaskRunner``: the one place the service's background work runs, under
``performance.background_tasks``.

Background work is what a request starts but does not wait for, and what start-up does before
serving: the listing refreshes after a write (``CacheManager.refresh``), cache warming (the
guide's ``warm_cache``), preloading hot keys into L1 and sharing newly hot keys with the fleet
(:mod:`.cache.preloading`). Each piece is a *task*: an ``async`` callable and a ``kind`` (a
short, fixed name such as ``cache_refresh``: a metric attribute, so never an id or a key).

The guide's four keys, in effect:

``max_concurrent_tasks``
    At most this many tasks run at once; the others wait in submission order. A waiting task
    holds no connection and no slot, only its place in line.
``task_timeout`` (seconds)
    Each attempt is cancelled after this long and counts as a failed attempt (``timed_out``).
``retry_attempts``
    A failed attempt is tried again up to this many times (``0``: never), so a task makes at
    most ``1 + retry_attempts`` attempts. An attempt fails when it raises an ``Exception``.
``retry_delay`` (seconds)
    The wait before each retry. The waiting task gives its slot up meanwhile, so a dependency
    that is down cannot hold every slot asleep.

Settled beyond the guide:

* **Coalescing.** ``submit(..., key=K)`` adds nothing while a task submitted with ``K`` is
  still waiting for its first attempt: that task has not read anything yet, so it will see
  whatever made the caller ask again (a refresh after every write of a busy key runs once per
  burst, not once per write). A task that has started, or waits to retry, does not absorb.
* **A bounded line.** At most ``QUEUE_PER_SLOT`` tasks per slot wait; past that a submission
  is dropped (outcome ``dropped``) instead of growing memory without end. Every kind of task
  here is an optimisation whose absence costs a cache miss, never a wrong answer.
* **Shutdown.** :meth:`close` refuses new tasks, drops the waiting ones (``cancelled``), lets
  the running ones finish for ``grace_s`` (a query cancelled mid-way leaves a database
  driver's thread reporting to a loop that may be gone), then cancels the rest.
* Long-lived loops (the batching writer, the ``active_users`` publisher, the invalidation
  subscriber) are not tasks: each would hold a slot for the life of the process.

Metrics (catalog instruments, attribute ``task.kind``): ``plexichat.background_tasks.queued``
and ``.running`` (up-down counters; a task waiting for its retry counts as queued),
``.retries`` (one per retry) and ``.finished`` with ``task.outcome`` = ``succeeded``,
``failed`` (the last attempt raised), ``timed_out`` (the last attempt overran
``task_timeout``), ``dropped`` (the line was full) or ``cancelled`` (shutdown). A final
failure is also a line in the performance log, at most one a minute per kind. The catalog's
``PlexichatBackgroundTasksFailing`` alert reads ``finished``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from plexichat.observability.metrics.registry import DEFAULT_REGISTRY, MetricRegistry

if TYPE_CHECKING:
    from plexichat.config import Settings
    from plexichat.config.performance import BackgroundTasksConfig
    from plexichat.observability.metrics.instruments import CounterSeries

T = TypeVar("T")
Work = Callable[[], Awaitable[Any]]

QUEUE_PER_SLOT = 100
"""Waiting tasks allowed per ``max_concurrent_tasks`` slot (1,000 with the guide's 10). The
service's refreshes coalesce per key, so its line holds at most the keys written within one
refresh's time; the bound is for bursts nobody foresaw."""
LOG_INTERVAL_S = 60.0
OUTCOMES = ("succeeded", "failed", "timed_out", "dropped", "cancelled")
log = logging.getLogger("plexichat.performance")


class TaskFailedError(Exception):
    """A task awaited with :meth:`TaskRunner.run` failed its last attempt, or was dropped or
    cancelled; ``__cause__`` is the last attempt's exception, if any."""

    def __init__(self, kind: str, outcome: str, attempts: int) -> None:
        super().__init__(f"background task {kind!r} {outcome} after {attempts} attempt(s)")
        self.kind = kind
        self.outcome = outcome
        self.attempts = attempts


@dataclass(eq=False)
class _Task:
    kind: str
    work: Work
    key: str | None
    result: asyncio.Future[Any] | None = None
    attempts: int = 0
    error: BaseException | None = field(default=None, repr=False)


class _KindMetrics:
    """The series of one ``task.kind``, bound once."""

    __slots__ = ("finished", "queued", "retries", "running")

    def __init__(self, registry: MetricRegistry, kind: str) -> None:
        family = registry.instrument
        self.queued: CounterSeries = family("plexichat.background_tasks.queued").counter((kind,))
        self.running: CounterSeries = family("plexichat.background_tasks.running").counter((kind,))
        self.retries: CounterSeries = family("plexichat.background_tasks.retries").counter((kind,))
        finished = family("plexichat.background_tasks.finished")
        self.finished = {outcome: finished.counter((kind, outcome)) for outcome in OUTCOMES}


class TaskRunner:
    """Runs background tasks with at most ``max_concurrent_tasks`` at once, each attempt
    bounded by ``task_timeout``, failed attempts retried ``retry_attempts`` times after
    ``retry_delay``; see the module docstring.

    ``sleep`` waits out a retry delay (injected by tests); ``registry`` receives the metrics.
    Create it anywhere; its tasks run on the event loop that submits them (one loop at a time:
    between two loops, ``close()`` it).
    """

    def __init__(
        self,
        config: BackgroundTasksConfig,
        *,
        registry: MetricRegistry | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.max_concurrent = config.max_concurrent_tasks
        self.timeout_s = float(config.task_timeout)
        self.retry_attempts = config.retry_attempts
        self.retry_delay_s = float(config.retry_delay)
        self.max_queued = QUEUE_PER_SLOT * self.max_concurrent
        self._registry = registry if registry is not None else DEFAULT_REGISTRY
        self._sleep = sleep
        self._slots: asyncio.Semaphore | None = None
        self._metrics: dict[str, _KindMetrics] = {}
        self._waiting: dict[str, _Task] = {}
        self._handles: set[asyncio.Task[None]] = set()
        self._in_slot: set[asyncio.Task[Any]] = set()
        self._queued = 0
        self._running = 0
        self._closed = False
        self._idle: asyncio.Event | None = None
        self._logged: dict[str, float] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, *, registry: MetricRegistry | None = None
    ) -> TaskRunner:
        """The runner ``performance.background_tasks`` configures."""
        return cls(settings.performance.background_tasks, registry=registry)

    # -- submitting ------------------------------------------------------------------------
    def submit(self, kind: str, work: Work, *, key: str | None = None) -> bool:
        """Run ``await work()`` in the background; ``False`` when nothing was added (a task
        with ``key`` is still waiting, the line is full, or the runner is closed)."""
        if key is not None and key in self._waiting:
            return False
        task = _Task(kind, work, key)
        if not self._admit(task):
            return False
        if key is not None:
            self._waiting[key] = task
        return True

    async def run(self, kind: str, work: Callable[[], Awaitable[T]]) -> T:
        """Run ``work`` as a task (same slots, timeout and retries) and wait for its result;
        :class:`TaskFailedError` when it does not succeed."""
        task = _Task(kind, work, None, result=asyncio.get_running_loop().create_future())
        if not self._admit(task):
            raise TaskFailedError(kind, "dropped" if not self._closed else "cancelled", 0)
        assert task.result is not None
        value: T = await task.result
        return value

    @property
    def queued(self) -> int:
        """Tasks waiting for a slot or for their retry."""
        return self._queued

    @property
    def running(self) -> int:
        """Tasks running an attempt now."""
        return self._running

    async def wait_idle(self) -> None:
        """Return once nothing is queued or running (tests; a graceful drain)."""
        while self._queued or self._running:
            if self._idle is None:
                self._idle = asyncio.Event()
            await self._idle.wait()

    async def close(self, grace_s: float = 2.0) -> None:
        """Refuse new tasks, cancel the waiting ones, give the running ones ``grace_s`` to
        finish, then cancel them. Afterwards the runner takes tasks again (a cache may be
        started again after ``close()``)."""
        self._closed = True
        try:
            running = set(self._in_slot)
            for handle in self._handles - running:
                handle.cancel()
            if running:
                await asyncio.wait(running, timeout=grace_s)
            for handle in list(self._handles):
                handle.cancel()
            await asyncio.gather(*self._handles, return_exceptions=True)
        finally:
            self._slots = None
            self._closed = False

    # -- internals ---------------------------------------------------------------------------
    def _kind(self, kind: str) -> _KindMetrics:
        found = self._metrics.get(kind)
        if found is None:
            found = self._metrics[kind] = _KindMetrics(self._registry, kind)
        return found

    def _admit(self, task: _Task) -> bool:
        metrics = self._kind(task.kind)
        if self._closed:
            log.debug("background task %s refused: the runner is closed", task.kind)
            return False
        if self._queued >= self.max_queued:
            metrics.finished["dropped"].value += 1
            self._log_failure(task.kind, "dropped", f"{self._queued} tasks already waiting")
            return False
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_concurrent)
        self._queued += 1
        metrics.queued.value += 1
        handle = asyncio.get_running_loop().create_task(
            self._execute(task, metrics), name=f"plexichat-task {task.kind}"
        )
        self._handles.add(handle)
        handle.add_done_callback(self._handles.discard)
        return True

    async def _execute(self, task: _Task, metrics: _KindMetrics) -> None:
        """Attempts until one succeeds or none is left; every exit settles the gauges."""
        outcome = "cancelled"
        state = "queued"
        slots = self._slots
        assert slots is not None
        try:
            while True:
                async with slots:
                    if task.key is not None and self._waiting.get(task.key) is task:
                        del self._waiting[task.key]
                    state = self._move(metrics, state, "running")
                    outcome = await self._attempt(task)
                    if outcome == "succeeded" or task.attempts > self.retry_attempts:
                        break
                    state = self._move(metrics, state, "queued")
                metrics.retries.value += 1
                await self._sleep(self.retry_delay_s)
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            if task.key is not None and self._waiting.get(task.key) is task:
                del self._waiting[task.key]
            self._move(metrics, state, None)
            metrics.finished[outcome].value += 1
            self._settle(task, outcome)

    async def _attempt(self, task: _Task) -> str:
        task.attempts += 1
        deadline = asyncio.timeout(self.timeout_s)
        try:
            async with deadline:
                value = await task.work()
        except TimeoutError as exc:
            task.error = exc
            return "timed_out" if deadline.expired() else "failed"
        except Exception as exc:  # the task's own failure, whatever it is, is retried
            task.error = exc
            return "failed"
        if task.result is not None and not task.result.done():
            task.result.set_result(value)
        task.error = None
        return "succeeded"

    def _move(self, metrics: _KindMetrics, old: str, new: str | None) -> str:
        """Account the current task leaving state ``old`` for ``new`` (``None``: done)."""
        current = asyncio.current_task()
        if old == "queued":
            self._queued -= 1
            metrics.queued.value -= 1
        else:
            self._running -= 1
            metrics.running.value -= 1
            self._in_slot.discard(current)
        if new == "queued":
            self._queued += 1
            metrics.queued.value += 1
        elif new == "running":
            self._running += 1
            metrics.running.value += 1
            if current is not None:
                self._in_slot.add(current)
        if new is None and not (self._queued or self._running) and self._idle is not None:
            self._idle.set()
            self._idle = None
        return new or old

    def _settle(self, task: _Task, outcome: str) -> None:
        if outcome in ("failed", "timed_out"):
            self._log_failure(
                task.kind, outcome, f"after {task.attempts} attempt(s): {task.error!r}"
            )
        future = task.result
        if future is None or future.done():
            return
        error = TaskFailedError(task.kind, outcome, task.attempts)
        error.__cause__ = task.error
        future.set_exception(error)

    def _log_failure(self, kind: str, outcome: str, detail: str) -> None:
        now = time.monotonic()
        if now - self._logged.get(kind, -LOG_INTERVAL_S) < LOG_INTERVAL_S:
            return
        self._logged[kind] = now
        log.warning("background_task kind=%s outcome=%s %s", kind, outcome, detail)
