"""The open-loop runner: arrivals at a fixed rate, whatever the server does.

Request ``i`` is scheduled at ``t0 + i / rps``. When ``max_in_flight`` requests are already
outstanding, an arrival is *dropped* and counted -- the run never slows down to the server's pace
(which would turn it into a closed loop and hide overload). After ``duration`` seconds no more
requests start; those in flight get ``REQUEST_TIMEOUT_S`` to finish, the rest count as unfinished.

Before the run, ``users`` users are registered and each writes one post, so reads have data and
ids to draw from; if none can be registered, the seeded demo ids (users 1-5, posts 1-15) are used.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import sys
from dataclasses import dataclass
from typing import TextIO

import httpx

from plexichat.loadgen import identities
from plexichat.loadgen.mix import Population, RequestSpec, next_request
from plexichat.loadgen.report import Stats, Summary

DEFAULT_MAX_IN_FLIGHT = 256
REQUEST_TIMEOUT_S = 5.0
SETUP_CONCURRENCY = 16
DEMO_USER_IDS = list(range(1, 6))
DEMO_POST_IDS = list(range(1, 16))


@dataclass(frozen=True)
class LoadConfig:
    url: str
    duration_s: float
    rps: float
    users: int = 20
    seed: int = 0
    identities: int = 0
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT

    def __post_init__(self) -> None:
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


async def _setup(client: httpx.AsyncClient, config: LoadConfig, prefix: str) -> Population:
    """Register ``config.users`` users with one post each; fall back to the demo ids."""
    population = Population(user_ids=[], post_ids=[], name_prefix=prefix)
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one_user() -> None:
        name = population.new_username()
        async with gate:
            try:
                user = await client.post(
                    "/api/users", json={"username": name, "display_name": name}
                )
                if user.status_code != 201:
                    return
                user_id = int(user.json()["id"])
                population.user_ids.append(user_id)
                post = await client.post(
                    "/api/posts",
                    json={"user_id": user_id, "title": "hello", "body": f"{name} was here"},
                )
                if post.status_code == 201:
                    population.post_ids.append(int(post.json()["id"]))
            except httpx.HTTPError:
                return

    await asyncio.gather(*(one_user() for _ in range(config.users)))
    if not population.user_ids:
        population.user_ids.extend(DEMO_USER_IDS)
        population.post_ids.extend(DEMO_POST_IDS)
    return population


class _Run:
    def __init__(
        self, client: httpx.AsyncClient, config: LoadConfig, population: Population
    ) -> None:
        self.client = client
        self.config = config
        self.population = population
        self.operations = random.Random(config.seed)
        self.rng = random.Random(config.seed + 1)
        self.stats = Stats()
        self.loop = asyncio.get_running_loop()

    async def send(self, spec: RequestSpec, headers: dict[str, str], due: float) -> None:
        try:
            response = await self.client.request(
                spec.method, spec.path, json=spec.json, headers=headers
            )
        except httpx.TimeoutException:
            self.stats.timeouts += 1
            return
        except httpx.TransportError:
            self.stats.connection_errors += 1
            return
        self.stats.record(spec.operation, response.status_code, self.loop.time() - due)
        if self.stats.rate_limit_policy is None:
            self.stats.rate_limit_policy = response.headers.get("ratelimit-policy")
        if response.status_code == 201 and spec.operation in ("register", "create_post"):
            new_id = int(response.json()["id"])
            if spec.operation == "register":
                self.population.user_ids.append(new_id)
            else:
                self.population.post_ids.append(new_id)

    async def arrivals(self, t0: float) -> float:
        """Start every scheduled request; return when the last one was started."""
        total = max(1, round(self.config.duration_s * self.config.rps))
        in_flight: set[asyncio.Task[None]] = set()
        for i in range(total):
            due = t0 + i / self.config.rps
            delay = due - self.loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(in_flight) >= self.config.max_in_flight:
                self.stats.dropped += 1
                continue
            spec = next_request(self.operations, self.rng, self.population)
            headers = identities.headers(self.rng, self.config.identities)
            task = asyncio.create_task(self.send(spec, headers, due))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            self.stats.sent += 1
        last_start = self.loop.time()
        if in_flight:
            _, pending = await asyncio.wait(in_flight, timeout=REQUEST_TIMEOUT_S)
            for task in pending:
                task.cancel()
            self.stats.unfinished += len(pending)
        return last_start

    async def progress(self, t0: float, out: TextIO) -> None:
        tty = out.isatty()
        while True:
            await asyncio.sleep(1.0)
            line = self.stats.progress_line(self.loop.time() - t0)
            out.write(f"\r{line}\033[K" if tty else f"{line}\n")
            out.flush()


async def run_async(
    config: LoadConfig,
    progress: TextIO | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Summary:
    """Run the load described by ``config``; progress lines go to ``progress`` once a second.

    ``transport`` replaces the network (tests pass an ``httpx.MockTransport``).
    """
    limits = httpx.Limits(
        max_connections=config.max_in_flight, max_keepalive_connections=config.max_in_flight
    )
    async with httpx.AsyncClient(
        base_url=config.url,
        limits=limits,
        timeout=httpx.Timeout(REQUEST_TIMEOUT_S),
        transport=transport,
    ) as client:
        population = await _setup(client, config, prefix=f"lg_{secrets.token_hex(3)}_")
        setup_users = len(population.user_ids)
        run = _Run(client, config, population)
        t0 = run.loop.time()
        reporter = asyncio.create_task(run.progress(t0, progress)) if progress else None
        try:
            last_start = await run.arrivals(t0)
        finally:
            if reporter is not None:
                reporter.cancel()
                await asyncio.gather(reporter, return_exceptions=True)
                if progress is not None and progress.isatty():
                    progress.write("\n")
    window_s = max(config.duration_s, last_start - t0)
    return Summary.from_stats(
        run.stats,
        url=config.url,
        target_rps=config.rps,
        duration_s=config.duration_s,
        window_s=window_s,
        setup_users=setup_users,
    )


def run(config: LoadConfig, *, json_output: bool = False) -> int:
    """Run, print the summary on stdout; 1 if the server was unreachable for every request."""
    summary = asyncio.run(run_async(config, progress=sys.stderr))
    print(summary.to_json() if json_output else summary.to_text())
    return 1 if summary.unreachable else 0
