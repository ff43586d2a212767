"""The open-loop runner: arrivals at a fixed rate, whatever the server does.

Request ``i`` is due at ``t0 + i / rps``. The arrival loop wakes, starts every request that is
due, and sleeps until the next one; latency is counted from the due time, so a late start --
the server's backlog or the generator's own -- counts (no coordinated omission). When
``max_in_flight`` requests are already outstanding, an arrival is *dropped* and counted: the
run never slows down to the server's pace (which would turn it into a closed loop and hide
overload). After ``duration`` seconds no more requests start; those in flight get
``REQUEST_TIMEOUT_S`` to finish, the rest count as unfinished.

The generator watches itself: its CPU (a fraction of one core) over the run, and how late each
request was sent after its due time. When either says it could not keep up, the summary says so
before anything else (:meth:`Summary.generator_line`), so its limit is never read as the
server's.

Before the run, ``users`` users are registered and each writes one post, so reads have data and
ids to draw from; if none can be registered, the seeded demo ids (users 1-5, posts 1-15) are
used. ``register: false`` in :class:`LoadConfig` (``--no-register``) skips registrations in the
mix too, for a fixed population (the soak).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import secrets
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TextIO

from plexichat.exit_code import ExitCode
from plexichat.loadgen import identities
from plexichat.loadgen.client import Client, ConnectError, RequestTimeoutError
from plexichat.loadgen.mix import Mix, Population, RequestSpec
from plexichat.loadgen.report import Stats, Summary

DEFAULT_MAX_IN_FLIGHT = 256
TICK_S = 0.001
"""The arrival loop's shortest sleep."""
REQUEST_TIMEOUT_S = 5.0
SETUP_CONCURRENCY = 16
DEMO_USER_IDS = list(range(1, 6))
DEMO_POST_IDS = list(range(1, 16))


@dataclass(frozen=True)
class LoadConfig:
    """One load run: open-loop arrivals at ``rps`` requests per second for ``duration_s`` seconds.

    ``users`` users (each with a post) are made before the run; ``seed`` makes the sequence of
    requests repeatable; ``identities`` > 0 spreads requests over that many ``X-Forwarded-For``
    clients; ``max_in_flight`` caps the requests outstanding (arrivals beyond it are dropped and
    counted). Bad values raise ``ValueError`` naming the field.
    """

    url: str
    duration_s: float
    rps: float
    users: int = 20
    seed: int = 0
    identities: int = 0
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    register: bool = True
    """Whether the mix registers new users (off: draw from the users made at set-up only)."""
    only: frozenset[str] | None = None
    """Draw only these operations of the mix (their weights kept); ``None``: all of them."""
    random_paths: float = 0.0
    """Percent of requests sent to random paths no route matches (404)."""

    def __post_init__(self) -> None:
        Mix(self.only, register=self.register, random_paths=self.random_paths)  # checked here
        if not self.duration_s > 0:
            raise ValueError(f"duration must be > 0 seconds, got {self.duration_s}")
        if not self.rps > 0:
            raise ValueError(f"rps must be > 0, got {self.rps}")
        if self.users < 1:
            raise ValueError(f"users must be >= 1, got {self.users}")
        if not 0 <= self.identities <= identities.MAX_IDENTITIES:
            raise ValueError(
                f"identities must be in [0, {identities.MAX_IDENTITIES}], got {self.identities}"
            )
        if self.max_in_flight < 1:
            raise ValueError(f"max_in_flight must be >= 1, got {self.max_in_flight}")


def _json(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


async def _setup(client: Client, config: LoadConfig, prefix: str) -> Population:
    """Register ``config.users`` users with one post each; fall back to the demo ids."""
    population = Population(user_ids=[], post_ids=[], name_prefix=prefix)
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one_user() -> None:
        name = population.new_username()
        async with gate:
            try:
                user = await client.request(
                    "POST", "/api/users", _json({"username": name, "display_name": name})
                )
                if user.status != 201:
                    return
                user_id = int(json.loads(user.body)["id"])
                population.user_ids.append(user_id)
                body = {"user_id": user_id, "title": "hello", "body": f"{name} was here"}
                post = await client.request("POST", "/api/posts", _json(body))
                if post.status == 201:
                    population.post_ids.append(int(json.loads(post.body)["id"]))
            except (ConnectError, RequestTimeoutError):
                return

    await asyncio.gather(*(one_user() for _ in range(config.users)))
    if not population.user_ids:
        population.user_ids.extend(DEMO_USER_IDS)
        population.post_ids.extend(DEMO_POST_IDS)
    return population


class _Run:
    def __init__(self, client: Client, config: LoadConfig, population: Population) -> None:
        self.client = client
        self.config = config
        self.population = population
        self.operations = random.Random(config.seed)
        self.rng = random.Random(config.seed + 1)
        self.stats = Stats()
        self.loop = asyncio.get_running_loop()
        self.clock = time.perf_counter  # uvloop's loop.time() has millisecond steps
        self.in_flight = 0
        self.tasks: set[asyncio.Task[None]] = set()
        self.mix = Mix(config.only, register=config.register, random_paths=config.random_paths)

    async def send(self, spec: RequestSpec, headers: bytes, due: float) -> None:
        self.stats.send_lags_s.append(self.clock() - due)
        body = None if spec.json is None else _json(spec.json)
        try:
            response = await self.client.request(spec.method, spec.path, body, headers)
        except RequestTimeoutError:
            self.stats.timeouts += 1
            return
        except ConnectError as exc:
            self.stats.connection_errors += 1
            self.stats.connection_error_kinds[exc.kind] += 1
            return
        finally:
            self.in_flight -= 1
        self.stats.record(spec.operation, response.status, self.clock() - due)
        if self.stats.rate_limit_policy is None:
            self.stats.rate_limit_policy = response.ratelimit_policy
        if response.status == 201 and spec.operation in ("register", "create_post"):
            new_id = int(json.loads(response.body)["id"])
            if spec.operation == "register":
                self.population.user_ids.append(new_id)
            else:
                self.population.post_ids.append(new_id)

    def _start(self, due: float) -> None:
        if self.in_flight >= self.config.max_in_flight:
            self.stats.dropped += 1
            # how late the generator got to it counts too: against a stalled server most
            # arrivals are dropped, and a p99 over the few sent ones would be their maximum
            self.stats.send_lags_s.append(self.clock() - due)
            return
        spec = self.mix.next_request(self.operations, self.rng, self.population)
        headers = identities.header_line(self.rng, self.config.identities)
        self.in_flight += 1
        self.stats.sent += 1
        self._spawn(self.send(spec, headers, due))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def arrivals(self, t0: float) -> float:
        """Start every scheduled request; return when the last one was started."""
        total = max(1, round(self.config.duration_s * self.config.rps))
        interval = 1.0 / self.config.rps
        i = 0
        while i < total:
            now = self.clock()
            while i < total and t0 + i * interval <= now:
                self._start(t0 + i * interval)
                i += 1
            if i < total:
                # At least a tick: uvloop's timers have millisecond steps, so a shorter sleep
                # returns at once and the loop would spin a core between arrivals (measured:
                # 100 % of the generator's CPU at 2,000 req/s). Arrivals due within the tick
                # start together when it ends, late by under TICK_S, which counts in their
                # latency like any lateness.
                await asyncio.sleep(max(TICK_S, t0 + i * interval - self.clock()))
        last_start = self.clock()
        if self.tasks:
            _, pending = await asyncio.wait(self.tasks, timeout=REQUEST_TIMEOUT_S + 1)
            for task in pending:
                task.cancel()
            self.stats.unfinished += len(pending)
        return last_start

    async def progress(self, t0: float, out: TextIO) -> None:
        tty = out.isatty()
        while True:
            await asyncio.sleep(1.0)
            line = self.stats.progress_line(self.clock() - t0)
            out.write(f"\r{line}\033[K" if tty else f"{line}\n")
            out.flush()


async def run_async(config: LoadConfig, progress: TextIO | None = None) -> Summary:
    """Run the load described by ``config``; progress lines go to ``progress`` once a second."""
    client = Client(config.url, REQUEST_TIMEOUT_S)
    try:
        population = await _setup(client, config, prefix=f"lg_{secrets.token_hex(3)}_")
        setup_users = len(population.user_ids)
        run = _Run(client, config, population)
        t0 = run.clock()
        cpu0 = time.process_time()
        reporter = asyncio.create_task(run.progress(t0, progress)) if progress else None
        try:
            last_start = await run.arrivals(t0)
        finally:
            if reporter is not None:
                reporter.cancel()
                await asyncio.gather(reporter, return_exceptions=True)
                if progress is not None and progress.isatty():
                    progress.write("\n")
        wall = run.clock() - t0
        cpu = time.process_time() - cpu0
    finally:
        await client.close()
    window_s = max(config.duration_s, last_start - t0)
    return Summary.from_stats(
        run.stats,
        url=config.url,
        target_rps=config.rps,
        duration_s=config.duration_s,
        window_s=window_s,
        setup_users=setup_users,
        generator_cpu=cpu / wall if wall > 0 else 0.0,
        max_in_flight=config.max_in_flight,
    )


def run_loop(coroutine: Coroutine[Any, Any, Summary]) -> Summary:
    """Run on uvloop when installed (it comes with ``uvicorn[standard]``; a cheaper loop
    leaves more of the generator's core for requests), else on asyncio's loop."""
    if importlib.util.find_spec("uvloop") is not None:
        import uvloop

        return uvloop.run(coroutine)
    return asyncio.run(coroutine)


def run(config: LoadConfig, *, json_output: bool = False) -> int:
    """Run, print the summary on stdout; ``FAILURE`` if the server was unreachable for every
    request."""
    summary = run_loop(run_async(config, progress=sys.stderr))
    print(summary.to_json() if json_output else summary.to_text())
    return ExitCode.FAILURE if summary.unreachable else ExitCode.OK
