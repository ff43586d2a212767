"""The service ``scripts/bench quantiles`` measures: ``python -m benchmarks.quantile_app PORT``.

A test-only app, instrumented by ``instrument_app`` exactly as the chat service is (the lean
histograms with the catalog's buckets, the real ``/metrics``), serving one route per
distribution, ``GET /q/<distribution>/{micros}``, that takes ``micros`` microseconds: the
client draws each request's duration. (The ``faults`` section only adds one fixed
``latency_ms`` to every request, so it cannot make a distribution.) Under 1 ms the handler
spins on ``perf_counter`` (an event-loop timer has 1 ms resolution under uvloop); from 1 ms it
sleeps in a thread of its own (``time.sleep`` wakes within tens of µs), so many slow requests
wait at once without the loop's timer granularity shaping the distribution.

Ground truth is taken where the histogram takes its value: ``BoundSeries.record`` is wrapped,
so every duration the middleware records into ``http.server.request.duration`` is also kept,
the same float. Exemplars keep one value per bucket and spans are timed on another clock
(``time.time_ns``), so neither gives every recorded value. ``GET /truth`` returns the kept
values by route template; the harness checks their count and sum against the histogram's
``_count`` and ``_sum`` in Prometheus, so a recording path that bypassed the wrapper would fail
the run rather than skew it.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import uvicorn
from fastapi import FastAPI

from benchmarks.apps import NO_NATIVE_TELEMETRY
from benchmarks.distributions import DISTRIBUTIONS
from plexichat.config import load_settings
from plexichat.observability import instrument_app
from plexichat.observability.middleware import BoundSeries

SPIN_BELOW_S = 0.001
SLEEPERS = 512  # threads: more than the most connections any distribution uses
recorded: defaultdict[str, list[float]] = defaultdict(list)


def _tap() -> None:
    """Keep every duration ``BoundSeries.record`` records, by route template."""
    original = BoundSeries.record

    def record(self: BoundSeries, duration: float, *args: Any, **kwargs: Any) -> None:
        original(self, duration, *args, **kwargs)
        if self.template is not None and self.template.startswith("/q/"):
            recorded[self.template].append(duration)

    BoundSeries.record = record  # type: ignore[method-assign]


def build() -> FastAPI:
    _tap()
    app = FastAPI(
        telemetry=NO_NATIVE_TELEMETRY,  # type: ignore[arg-type]
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    sleepers = ThreadPoolExecutor(max_workers=SLEEPERS, thread_name_prefix="sleeper")

    async def take(micros: int) -> dict[str, int]:
        seconds = micros / 1e6
        if seconds < SPIN_BELOW_S:
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                pass
        else:
            await asyncio.get_running_loop().run_in_executor(sleepers, time.sleep, seconds)
        return {"micros": micros}

    for distribution in DISTRIBUTIONS:
        app.add_api_route(distribution.route, take)

    @app.get("/truth")
    async def truth() -> dict[str, list[float]]:
        return dict(recorded)

    instrument_app(app, load_settings(environ={}))
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.quantile_app")
    parser.add_argument("port", type=int)
    args = parser.parse_args(argv)
    config = uvicorn.Config(
        build(),
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="on",
        backlog=4096,
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
