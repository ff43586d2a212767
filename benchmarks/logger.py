"""``scripts/bench toolkit``: micro-benchmarks of the performance toolkit.

Per-call cost of the performance logger's recording methods (tracing off, with and without
attributes) and of span-opening timers; get/set latency of the L1 (memory) and L2 (Redis)
cache tiers, the latter against a real ``redis-server`` started on a free loopback port.
Each figure is the best of ``--repeat`` runs of ``--number`` calls (timeit's convention: the
minimum is the cost with the least interference). No rate limit or network is involved
except loopback Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import shutil
import socket
import subprocess
import tempfile
import time
import timeit
from collections.abc import Callable
from typing import Any

from plexichat.config import load_settings
from plexichat.core.logging_unified import PerformanceLogger
from plexichat.core.performance import CacheManager
from plexichat.observability.metrics.registry import MetricRegistry


def best_us(func: Callable[[], Any], number: int, repeat: int) -> float:
    return min(timeit.repeat(func, number=number, repeat=repeat)) / number * 1e6


def logger_costs(number: int, repeat: int) -> list[tuple[str, float]]:
    perf = PerformanceLogger(MetricRegistry())

    def timer() -> None:
        with perf.timer("custom_operation"):
            pass

    cases: list[tuple[str, Callable[[], Any]]] = [
        ('increment_counter("api_calls")', lambda: perf.increment_counter("api_calls")),
        (
            'increment_counter("page_views", route="users", method="GET")',
            lambda: perf.increment_counter("page_views", route="users", method="GET"),
        ),
        ('record_gauge("active_users", 150)', lambda: perf.record_gauge("active_users", 150)),
        (
            'record_gauge("pool_size", 3, pool="main")',
            lambda: perf.record_gauge("pool_size", 3, pool="main"),
        ),
        (
            'record_histogram("response_size", 2048)',
            lambda: perf.record_histogram("response_size", 2048),
        ),
        (
            'record_histogram("upload_size", 2048, kind="image")',
            lambda: perf.record_histogram("upload_size", 2048, kind="image"),
        ),
        ('record_timer("image_processing_time", 0.125)', lambda: perf.record_timer("x", 0.125)),
        ('with timer("custom_operation") (tracing off)', timer),
    ]
    return [(name, best_us(func, number, repeat)) for name, func in cases]


def span_timer_cost(number: int, repeat: int) -> float:
    """``with timer(...)`` inside a sampled request: the timer opens (and queues) a child
    span on the lean tracer; export goes to a transport that drops the bytes, so the
    figure is the request-path cost plus the export thread's encoding."""
    from plexichat.observability.tracing import spans
    from plexichat.observability.tracing.encoding import SpanEncoder
    from plexichat.observability.tracing.export import SpanExporter
    from plexichat.observability.tracing.tracer import LeanTracer

    exporter = SpanExporter(SpanEncoder({}, "bench", "1"), lambda payload: None)
    tracer = LeanTracer("always_on", 1.0, exporter)
    perf = PerformanceLogger(MetricRegistry())
    request = tracer.server_span([], "GET", "http")
    assert request is not None
    spans.use_tracer(tracer)
    try:

        def timer() -> None:
            with perf.timer("custom_operation"):
                pass

        return best_us(timer, number, repeat)
    finally:
        spans.use_tracer(None)
        tracer.finish(request)
        exporter.shutdown(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _cache_costs(port: int | None, rounds: int) -> list[tuple[str, float]]:
    caching: dict[str, Any] = {"redis_cache": {"enabled": port is not None}}
    if port is not None:
        caching["redis_cache"].update(host="127.0.0.1", port=port)
    settings = load_settings(environ={}, overrides={"performance": {"caching": caching}})
    cache = CacheManager(settings, registry=MetricRegistry())
    value = {"id": 1, "username": "alice", "display_name": "Alice Liddell", "tags": ["a", "b"]}
    out: list[tuple[str, float]] = []
    try:
        await cache.start()

        async def measure(name: str, call: Callable[[int], Any]) -> None:
            best = float("inf")
            for _ in range(5):
                start = time.perf_counter()
                for i in range(rounds):
                    await call(i)
                best = min(best, (time.perf_counter() - start) / rounds * 1e6)
            out.append((name, best))

        if port is None:
            await measure("L1 set (memory)", lambda i: cache.set(f"k{i % 100}", value))
            await measure("L1 get hit (memory)", lambda i: cache.get(f"k{i % 100}"))
        else:
            await measure(
                "L1+L2 set (memory + Redis, write-through + publish)",
                lambda i: cache.set(f"k{i % 100}", value),
            )
            await measure(
                "L2 get hit (Redis GET+PTTL, L1 bypassed)",
                lambda i: cache.get(f"k{i % 100}", cache_type="redis"),
            )
            await measure(
                "L2 set (Redis only)", lambda i: cache.set(f"r{i % 100}", value, cache_type="redis")
            )
    finally:
        await cache.close()
    return out


def cache_costs(rounds: int) -> list[tuple[str, float]]:
    results = asyncio.run(_cache_costs(None, rounds * 10))
    binary = shutil.which("redis-server")
    if binary is None:
        return [*results, ("L2 (Redis): redis-server not installed, skipped", float("nan"))]
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                tmp,
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
            results += asyncio.run(_cache_costs(port, rounds))
        finally:
            proc.terminate()
            proc.wait()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/bench toolkit", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--number", type=int, default=200_000, help="calls per logger run")
    parser.add_argument("--repeat", type=int, default=7, help="runs per logger figure")
    parser.add_argument("--rounds", type=int, default=2000, help="calls per cache run")
    args = parser.parse_args(argv)
    print(
        f"# toolkit micro-benchmarks ({platform.python_implementation()} "
        f"{platform.python_version()}, {platform.machine()}, tracing off, no rate limit)"
    )
    print("\n## performance logger, µs per call (best of runs)")
    for name, cost in logger_costs(args.number, args.repeat):
        print(f"  {cost:7.3f} µs  {name}")
    span_cost = span_timer_cost(args.number // 10, args.repeat)
    print(
        f'  {span_cost:7.3f} µs  with timer("custom_operation") in a sampled request (opens a span)'
    )
    print("\n## cache tiers, µs per call (best of 5 runs; Redis on loopback)")
    for name, cost in cache_costs(args.rounds):
        print(f"  {cost:7.1f} µs  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
