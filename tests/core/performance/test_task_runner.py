"""The task runner: each ``background_tasks`` key has its effect, and the metrics say what the
runner does (read back through the registry's OpenTelemetry data model)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import pytest

from plexichat.config import load_settings
from plexichat.config.performance import BackgroundTasksConfig
from plexichat.core.performance.task_runner import QUEUE_PER_SLOT, TaskFailedError, TaskRunner
from plexichat.observability import MetricRegistry


def value(registry: MetricRegistry, name: str, **attributes: str) -> float:
    """The point of ``name`` with exactly ``attributes`` (0 when there is none)."""
    for metric in registry.collect():
        if metric.name == name:
            for point in metric.data.data_points:
                if dict(point.attributes or {}) == attributes:
                    return float(point.value)  # type: ignore[union-attr]
    return 0.0


def finished(registry: MetricRegistry, outcome: str, kind: str = "job") -> float:
    return value(
        registry,
        "plexichat.background_tasks.finished",
        **{"task.kind": kind, "task.outcome": outcome},
    )


def gauge(registry: MetricRegistry, which: str, kind: str = "job") -> float:
    return value(registry, f"plexichat.background_tasks.{which}", **{"task.kind": kind})


def runner(
    registry: MetricRegistry, sleep: Callable[[float], Awaitable[None]] | None = None, **keys: int
) -> TaskRunner:
    config = BackgroundTasksConfig.model_validate({"retry_delay": 0, **keys})
    if sleep is None:
        return TaskRunner(config, registry=registry)
    return TaskRunner(config, registry=registry, sleep=sleep)


class Flaky:
    """A task that fails its first ``failures`` attempts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0

    async def __call__(self) -> str:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ConnectionError(f"attempt {self.attempts}")
        return "done"


def test_the_guide_s_keys_configure_it() -> None:
    environ = {
        "PLEXICHAT_PERFORMANCE__BACKGROUND_TASKS__MAX_CONCURRENT_TASKS": "3",
        "PLEXICHAT_PERFORMANCE__BACKGROUND_TASKS__TASK_TIMEOUT": "7",
        "PLEXICHAT_PERFORMANCE__BACKGROUND_TASKS__RETRY_ATTEMPTS": "1",
        "PLEXICHAT_PERFORMANCE__BACKGROUND_TASKS__RETRY_DELAY": "2",
    }
    tasks = TaskRunner.from_settings(load_settings(environ=environ), registry=MetricRegistry())
    assert (tasks.max_concurrent, tasks.timeout_s) == (3, 7.0)
    assert (tasks.retry_attempts, tasks.retry_delay_s) == (1, 2.0)
    assert tasks.max_queued == 3 * QUEUE_PER_SLOT


async def test_max_concurrent_tasks_run_at_once_and_the_rest_wait_in_order() -> None:
    registry = MetricRegistry()
    tasks = runner(registry, max_concurrent_tasks=2)
    gate = asyncio.Event()
    started: list[int] = []

    def job(n: int) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            started.append(n)
            await gate.wait()

        return work

    for n in range(5):
        assert tasks.submit("job", job(n))
    await asyncio.sleep(0.01)
    assert started == [0, 1]
    assert (tasks.running, tasks.queued) == (2, 3)
    assert (gauge(registry, "running"), gauge(registry, "queued")) == (2, 3)
    gate.set()
    await tasks.wait_idle()
    assert started == [0, 1, 2, 3, 4]
    assert (gauge(registry, "running"), gauge(registry, "queued")) == (0, 0)
    assert finished(registry, "succeeded") == 5


async def test_retry_attempts_retries_a_failing_task_then_gives_up() -> None:
    registry = MetricRegistry()
    tasks = runner(registry, retry_attempts=2)
    recovers, never = Flaky(failures=2), Flaky(failures=99)
    tasks.submit("job", recovers)
    tasks.submit("job", never)
    await tasks.wait_idle()
    assert recovers.attempts == 3  # two failures, two retries, one success
    assert never.attempts == 3  # 1 + retry_attempts, then it is given up
    assert finished(registry, "succeeded") == 1
    assert finished(registry, "failed") == 1
    assert value(registry, "plexichat.background_tasks.retries", **{"task.kind": "job"}) == 4


async def test_no_retry_with_zero_retry_attempts_and_the_failure_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = MetricRegistry()
    tasks = runner(registry, retry_attempts=0)
    flaky = Flaky(failures=1)
    with caplog.at_level(logging.WARNING, logger="plexichat.performance"):
        tasks.submit("job", flaky)
        await tasks.wait_idle()
    assert flaky.attempts == 1
    assert finished(registry, "failed") == 1
    assert "background_task kind=job outcome=failed after 1 attempt(s)" in caplog.text
    assert "ConnectionError('attempt 1')" in caplog.text


async def test_retry_delay_is_waited_with_the_slot_free() -> None:
    """One slot: while the failed task waits out its delay, another task runs in the slot."""
    registry = MetricRegistry()
    delays: list[float] = []
    delay_over = asyncio.Event()

    async def sleep(seconds: float) -> None:
        delays.append(seconds)
        await delay_over.wait()

    tasks = runner(registry, sleep, max_concurrent_tasks=1, retry_attempts=1, retry_delay=5)
    flaky = Flaky(failures=1)
    other_ran = asyncio.Event()

    async def other() -> None:
        other_ran.set()

    tasks.submit("job", flaky)
    await asyncio.sleep(0.01)
    assert delays == [5.0]
    assert (tasks.running, tasks.queued) == (0, 1)  # waiting for its retry counts as queued
    tasks.submit("job", other)
    await asyncio.wait_for(other_ran.wait(), 1)
    delay_over.set()
    await tasks.wait_idle()
    assert flaky.attempts == 2
    assert finished(registry, "succeeded") == 2


async def test_task_timeout_cancels_an_attempt_that_runs_too_long() -> None:
    registry = MetricRegistry()
    tasks = runner(registry, task_timeout=1, retry_attempts=1)
    attempts = 0
    cancelled = 0

    async def hangs() -> None:
        nonlocal attempts, cancelled
        attempts += 1
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled += 1
            raise

    with pytest.raises(TaskFailedError, match="'job' timed_out after 2 attempt") as failure:
        await tasks.run("job", hangs)
    assert (attempts, cancelled) == (2, 2)
    assert isinstance(failure.value.__cause__, TimeoutError)
    assert finished(registry, "timed_out") == 1
    assert gauge(registry, "running") == 0


async def test_a_task_s_own_timeout_error_is_a_failure_not_a_timeout() -> None:
    registry = MetricRegistry()
    tasks = runner(registry, retry_attempts=0)

    async def raises() -> None:
        raise TimeoutError("the driver's own")

    tasks.submit("job", raises)
    await tasks.wait_idle()
    assert (finished(registry, "failed"), finished(registry, "timed_out")) == (1, 0)


async def test_run_returns_the_result() -> None:
    tasks = runner(MetricRegistry(), retry_attempts=1)
    assert await tasks.run("job", Flaky(failures=1)) == "done"


async def test_a_waiting_task_absorbs_resubmissions_of_its_key_a_started_one_does_not() -> None:
    registry = MetricRegistry()
    tasks = runner(registry, max_concurrent_tasks=1)
    gate = asyncio.Event()
    ran: list[str] = []

    def job(name: str) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            ran.append(name)
            await gate.wait()

        return work

    assert tasks.submit("job", job("first"), key="k")
    await asyncio.sleep(0.01)  # "first" runs: it holds the only slot
    assert tasks.submit("job", job("second"), key="k")  # first started: a new one is queued
    assert not tasks.submit("job", job("third"), key="k")  # second still waits: absorbed
    gate.set()
    await tasks.wait_idle()
    assert ran == ["first", "second"]


async def test_a_full_line_drops_and_counts() -> None:
    registry = MetricRegistry()
    tasks = runner(registry, max_concurrent_tasks=1)
    gate = asyncio.Event()

    async def blocked() -> None:
        await gate.wait()

    assert tasks.submit("job", blocked)
    await asyncio.sleep(0.01)  # it runs
    accepted = [tasks.submit("job", blocked) for _ in range(QUEUE_PER_SLOT + 2)]
    assert accepted.count(False) == 2  # QUEUE_PER_SLOT wait; the rest are dropped
    assert finished(registry, "dropped") == 2
    with pytest.raises(TaskFailedError, match="dropped"):
        await tasks.run("job", blocked)
    gate.set()
    await tasks.wait_idle()
    assert finished(registry, "succeeded") == QUEUE_PER_SLOT + 1


async def test_close_lets_running_tasks_finish_and_cancels_the_waiting_ones() -> None:
    registry = MetricRegistry()
    tasks = runner(registry, max_concurrent_tasks=1)
    finishing = asyncio.Event()
    done: list[str] = []

    async def slow() -> None:
        await finishing.wait()
        done.append("slow")

    async def waiting() -> None:
        done.append("waiting")

    tasks.submit("job", slow)
    tasks.submit("job", waiting)
    await asyncio.sleep(0.01)
    closing = asyncio.create_task(tasks.close(grace_s=5))
    await asyncio.sleep(0.01)
    assert not tasks.submit("job", waiting)  # refused while closing
    finishing.set()
    await closing
    assert done == ["slow"]
    assert (finished(registry, "succeeded"), finished(registry, "cancelled")) == (1, 1)
    assert (gauge(registry, "running"), gauge(registry, "queued")) == (0, 0)
    assert tasks.submit("job", waiting)  # usable again after close()
    await tasks.wait_idle()
    assert done == ["slow", "waiting"]


async def test_close_cancels_what_outlives_the_grace() -> None:
    registry = MetricRegistry()
    tasks = runner(registry)

    async def forever() -> None:
        await asyncio.Event().wait()

    tasks.submit("job", forever)
    await asyncio.sleep(0.01)
    await tasks.close(grace_s=0.05)
    assert finished(registry, "cancelled") == 1
    assert gauge(registry, "running") == 0
