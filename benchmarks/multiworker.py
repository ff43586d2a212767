"""``scripts/bench multiworker``: what multi-worker mode costs, in process.

1. The request path: the telemetry middleware's writes — the three HTTP histograms of a
   request (``BoundSeries.record``), the active-request up-down counter (+1 and -1), the
   exemplars of a sampled request — on series in process memory (one process) and on series
   backed by a slot file (multi-worker mode), in ns per request.
2. A scrape: ``--workers`` registries sharing one directory on ``/dev/shm`` (standing for that
   many workers), each with ``--series`` histogram series carrying exemplars, merged into one
   view (``MetricRegistry.points``) and rendered as Prometheus text, in ms.

Each figure is the best of ``--repeat`` runs (timeit's convention). The HTTP-level figure under
load is ``scripts/bench --variants plexichat,plexichat-workers``.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest

from plexichat.observability.metrics.directory import MultiprocessDirectory
from plexichat.observability.metrics.exposition import LeanCollector
from plexichat.observability.metrics.registry import MetricRegistry
from plexichat.observability.middleware import BoundSeries

SHM = Path("/dev/shm")
DURATION = "http.server.request.duration"
TTFB = "plexichat.http.server.time_to_first_byte"
BODY = "http.server.response.body.size"
KEY = ("GET", "/api/items/{item_id}", 200, None)


def best_ns(func: Callable[[], Any], number: int, repeat: int) -> float:
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number * 1e9


def request_path(registry: MetricRegistry, number: int, repeat: int) -> dict[str, float]:
    bound = BoundSeries(
        None, KEY[1], *(registry.instrument(n).histogram(KEY) for n in (DURATION, TTFB, BODY))
    )
    active = registry.instrument("http.server.active_requests").updowncounter(("GET", "http"))

    def histograms() -> None:
        bound.record(0.0123, 0.0101, 512)

    def in_flight() -> None:
        active.cells[0] += 1
        active.cells[0] -= 1

    def exemplars() -> None:
        bound.duration.record_exemplar(0.0123, 0x4BF92F3577B34DA6A3CE929D0E0E4736, 0xF067AA)
        bound.ttfb.record_exemplar(0.0101, 0x4BF92F3577B34DA6A3CE929D0E0E4736, 0xF067AA)

    return {
        "three histograms (every request)": best_ns(histograms, number, repeat),
        "active requests +1/-1 (every request)": best_ns(in_flight, number, repeat),
        "two exemplars (sampled requests only)": best_ns(exemplars, number, repeat),
    }


def shared(directory: Path) -> MetricRegistry:
    registry = MetricRegistry()
    registry.share(MultiprocessDirectory(directory))
    registry.claim()
    return registry


def scrape(workers: int, series: int, repeat: int) -> tuple[float, float, int]:
    directory = Path(tempfile.mkdtemp(prefix="plexichat-bench-", dir=SHM if SHM.is_dir() else None))
    registries = []
    try:
        for _ in range(workers):
            registry = shared(directory)
            family = registry.instrument(DURATION)
            for i in range(series):
                one = family.histogram(("GET", f"/route/{i}", 200, None))
                one.record(0.001 * (i % 100))
                one.record_exemplar(0.001 * (i % 100), i + 1, i + 1)
            registries.append(registry)
        scraper = registries[0]
        target = CollectorRegistry(auto_describe=False)
        target.register(LeanCollector(scraper, "plexichat.observability", "0"))
        scraper.points()  # parse every slot's records once, as a running worker has
        merge_ms = min(_timed(scraper.points) for _ in range(repeat)) * 1e3
        text_ms = min(_timed(lambda: generate_latest(target)) for _ in range(repeat)) * 1e3
        size = len(generate_latest(target))
    finally:
        for registry in registries:
            registry.unshare()
        shutil.rmtree(directory, ignore_errors=True)
    return merge_ms, text_ms, size


def _timed(func: Callable[[], Any]) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="scripts/bench multiworker", description=__doc__.split("\n")[0]
    )
    p.add_argument("--number", type=int, default=200_000, help="calls per timing run")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--series", type=int, default=1000, help="histogram series per worker")
    args = p.parse_args(argv)
    print(f"# Python {platform.python_version()}, {platform.machine()}\n")
    local = request_path(MetricRegistry(), args.number, args.repeat)
    directory = Path(tempfile.mkdtemp(prefix="plexichat-bench-", dir=SHM if SHM.is_dir() else None))
    try:
        registry = shared(directory)
        slot = request_path(registry, args.number, args.repeat)
        registry.unshare()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print("| request path | one process, ns | multi-worker (slot), ns | difference, ns |")
    print("|---|---|---|---|")
    for name, ns in local.items():
        print(f"| {name} | {ns:.0f} | {slot[name]:.0f} | {slot[name] - ns:+.0f} |")
    every = [n for n in local if "every request" in n]
    added = sum(slot[n] - local[n] for n in every)
    print(f"\nadded on every request in multi-worker mode: {added:.0f} ns\n")
    merge_ms, text_ms, size = scrape(args.workers, args.series, args.repeat)
    print(
        f"scrape of {args.workers} workers x {args.series} histogram series with exemplars: "
        f"merge {merge_ms:.1f} ms, merge + plain-text exposition {text_ms:.1f} ms "
        f"({size / 1e6:.1f} MB)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
