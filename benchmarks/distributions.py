"""The latency distributions ``scripts/bench quantiles`` drives the service with.

Lognormal, sigma 0.5 (p99 / p50 = e^(2.326 * 0.5) = 3.2: a tail like a real endpoint's, not
a spike), at medians 0.3 ms, 3 ms, 30 ms, 300 ms and 3 s, and one bimodal mix: 90 % around
2 ms (a cache hit) and 10 % around 200 ms (a miss), each lognormal with sigma 0.25, so p50 sits
in the fast mode and p95/p99 in the slow one. Durations are drawn by the client from a seeded
generator, so a run is reproducible.

Each distribution has its sample count and the connections that carry it: the slow ones need
many requests in flight to finish in seconds (3 s at 400 connections: ~120 requests/s). The
3 s one gets fewer samples (2,000; its p99 is still the 20th largest) rather than a time
scale: a scaled duration would land in other buckets, so the classic error would be another
distribution's.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Distribution:
    """A latency distribution: a mixture of lognormal modes (weight, median s, sigma)."""

    name: str
    modes: tuple[tuple[float, float, float], ...]
    samples: int
    connections: int

    def draw(self, rng: random.Random) -> float:
        """One duration in seconds."""
        pick = rng.random()
        mode = self.modes[-1]  # where rounding leaves the weights' sum a hair under 1
        for candidate in self.modes:
            pick -= candidate[0]
            if pick < 0:
                mode = candidate
                break
        _, median, sigma = mode
        return median * math.exp(sigma * rng.gauss(0.0, 1.0))

    def durations(self, seed: int, scale: float = 1.0) -> list[float]:
        """``samples * scale`` (at least 10) durations in seconds, reproducible by ``seed``."""
        rng = random.Random(f"{seed}:{self.name}")
        return [self.draw(rng) for _ in range(max(10, round(self.samples * scale)))]

    @property
    def route(self) -> str:
        """The route template its requests are served (and recorded) under."""
        return f"/q/{self.name}/{{micros}}"


SIGMA = 0.5
DISTRIBUTIONS = (
    Distribution("lognormal-0.3ms", ((1.0, 0.0003, SIGMA),), 20_000, 1),
    Distribution("lognormal-3ms", ((1.0, 0.003, SIGMA),), 20_000, 8),
    Distribution("lognormal-30ms", ((1.0, 0.03, SIGMA),), 20_000, 32),
    Distribution("lognormal-300ms", ((1.0, 0.3, SIGMA),), 10_000, 200),
    Distribution("lognormal-3s", ((1.0, 3.0, SIGMA),), 2_000, 400),
    Distribution("bimodal-2ms-200ms", ((0.9, 0.002, 0.25), (0.1, 0.2, 0.25)), 20_000, 32),
)
BY_NAME = {d.name: d for d in DISTRIBUTIONS}
