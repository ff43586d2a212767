"""``Writer``: the service's one database writer. Writes queue, one task runs them in batches.

Why one writer: SQLite has one. When every request wrote on its own pooled connection, a writer
held the database lock from its ``INSERT`` to its ``COMMIT`` -- across event-loop turns, which
under load are long -- while the others slept in SQLite's busy handler (naps of 1, 2, 5 ... 100
ms) holding pool connections. Measured: at 700 req/s of loadgen's mix the service's core was
half idle while p99 reached 2 s, and at 1,000 req/s throughput collapsed to ~60 req/s. Here a
write waits in an asyncio queue instead (no sleeping, no lock held while waiting), and the
writer runs whatever queued meanwhile, up to ``batch_size`` jobs, in one transaction: one
``BEGIN``/``COMMIT`` for the batch (group commit), whose cost is shared by its jobs. The same
writer serves PostgreSQL, where it bounds the service to one connection's worth of writes and
one commit per batch.

A job is an async function of an ``AsyncConnection`` that runs statements and returns a value;
the caller awaits ``writer.run(job)`` and gets that value once the batch has committed (or the
job's own exception). Jobs are written not to fail, but if a batch fails all the same, it is
rolled back and its jobs run again one transaction each, so one bad job fails only its caller.
A caller that gives up (cancelled, timed out) before its job started takes the job off the
batch; once started, the job commits with its batch. Each job runs in its caller's context, so
its statements' spans are children of the request that wrote (the batch's ``BEGIN`` and
``COMMIT`` belong to no request and get none).

``batch_size`` is the guide's ``latency_optimizer.query_optimization.batch_size``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")
Job = Callable[[AsyncConnection], Coroutine[Any, Any, T]]
_Item = tuple[Job[Any], asyncio.Future[Any], contextvars.Context]
log = logging.getLogger("plexichat.service")


class WriterClosedError(RuntimeError):
    """A write was submitted after the writer was closed."""


class Writer:
    """The service's one database writer (see the module docstring).

    Args:
        engine: The engine whose connection the batches run on.
        batch_size: The most jobs in one transaction (at least 1, else ``ValueError``).
    """

    def __init__(self, engine: AsyncEngine, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.engine = engine
        self.batch_size = batch_size
        self.batches = 0
        """Transactions committed so far (a batch of one counts too)."""
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def start(self) -> None:
        """Start the task that runs the batches, on the running loop (idempotent; ``run`` starts
        it too)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._serve(), name="plexichat-writer"
            )

    async def close(self) -> None:
        """Run the writes already queued, then stop."""
        self._closed = True
        if self._task is None:
            return
        self._queue.put_nowait(None)
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def run(self, job: Job[T]) -> T:
        """Queue ``job``; its result once its batch has committed."""
        if self._closed:
            raise WriterClosedError("the database writer is closed")
        self.start()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((job, future, contextvars.copy_context()))
        return await future

    async def _serve(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < self.batch_size and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stop = True
                    break
                batch.append(item)
            await self._run([item for item in batch if not item[1].done()])
            if stop:
                return

    async def _run(self, batch: list[_Item]) -> None:
        if not batch:
            return
        loop = asyncio.get_running_loop()
        try:
            async with self.engine.begin() as conn:
                results = [
                    await loop.create_task(job(conn), context=context) for job, _, context in batch
                ]
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc=exc)
                return
            log.info("write batch of %d failed (%r); running its jobs one by one", len(batch), exc)
            for item in batch:
                await self._run([item])
            return
        self.batches += 1
        for (_, future, _), result in zip(batch, results, strict=True):
            _settle(future, result=result)


def _settle(
    future: asyncio.Future[Any], *, result: Any = None, exc: BaseException | None = None
) -> None:
    if future.done():  # the caller gave up meanwhile
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
