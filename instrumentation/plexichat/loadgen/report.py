"""What a load run measured: running ``Stats``, the once-a-second progress line, the ``Summary``.

Latency is measured from each request's *scheduled* start, as an open-loop measurement should: if
the generator or the server falls behind, the wait counts (no coordinated omission).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


def percentile(sorted_values: list[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of ``sorted_values``; 0.0 if empty."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def status_class(status: int) -> str:
    return f"{status // 100}xx"


@dataclass
class Stats:
    """Counters of a run, updated as responses arrive."""

    sent: int = 0
    dropped: int = 0
    connection_errors: int = 0
    timeouts: int = 0
    unfinished: int = 0
    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    rate_limit_policy: str | None = None

    def record(self, operation: str, status: int, latency_s: float) -> None:
        if status == 429:
            self.rate_limited += 1
        self.latencies_s.append(latency_s)
        self.statuses[status_class(status)] += 1
        self.operations[operation] += 1

    @property
    def responses(self) -> int:
        return len(self.latencies_s)

    @property
    def errors(self) -> int:
        """5xx responses, connection errors and timeouts (4xx are part of the mix)."""
        return self.statuses["5xx"] + self.connection_errors + self.timeouts

    def progress_line(self, elapsed_s: float) -> str:
        ordered = sorted(self.latencies_s)
        rate = self.sent / elapsed_s if elapsed_s > 0 else 0.0
        return (
            f"[{elapsed_s:5.1f}s] sent {self.sent}  rate {rate:.1f}/s  errors {self.errors}"
            f"  dropped {self.dropped}  p50 {percentile(ordered, 50) * 1000:.1f} ms"
            f"  p99 {percentile(ordered, 99) * 1000:.1f} ms"
        )


@dataclass(frozen=True)
class Summary:
    """The closing report of a run."""

    url: str
    target_rps: float
    duration_s: float
    sent: int
    achieved_rps: float
    dropped: int
    responses: int
    status_classes: dict[str, int]
    connection_errors: int
    timeouts: int
    unfinished: int
    latency_ms: dict[str, float]
    operations: dict[str, int]
    setup_users: int
    rate_limited: int = 0
    rate_limit_policy: str | None = None

    @classmethod
    def from_stats(
        cls,
        stats: Stats,
        *,
        url: str,
        target_rps: float,
        duration_s: float,
        window_s: float,
        setup_users: int,
    ) -> Summary:
        ordered = sorted(stats.latencies_s)
        return cls(
            url=url,
            target_rps=target_rps,
            duration_s=duration_s,
            sent=stats.sent,
            achieved_rps=round(stats.sent / window_s, 2) if window_s > 0 else 0.0,
            dropped=stats.dropped,
            responses=stats.responses,
            status_classes=dict(sorted(stats.statuses.items())),
            connection_errors=stats.connection_errors,
            timeouts=stats.timeouts,
            unfinished=stats.unfinished,
            latency_ms={
                name: round(value * 1000, 2)
                for name, value in (
                    ("p50", percentile(ordered, 50)),
                    ("p90", percentile(ordered, 90)),
                    ("p99", percentile(ordered, 99)),
                    ("max", ordered[-1] if ordered else 0.0),
                )
            },
            operations=dict(sorted(stats.operations.items())),
            setup_users=setup_users,
            rate_limited=stats.rate_limited,
            rate_limit_policy=stats.rate_limit_policy,
        )

    @property
    def unreachable(self) -> bool:
        """Every request sent failed to get any response."""
        return self.sent > 0 and self.responses == 0

    def rate_limit_line(self) -> str:
        """What limit the run ran under, from the server's ``RateLimit-Policy`` header, and
        how many requests it refused (429): those measured the limiter, not the service."""
        policy = (
            f"server policy {self.rate_limit_policy} (requests;w=window s) per client"
            if self.rate_limit_policy
            else "server announced no rate limit"
        )
        share = self.rate_limited / self.responses * 100 if self.responses else 0.0
        flag = "!! " if self.rate_limited else ""
        return (
            f"  {flag}rate limited (429) {self.rate_limited} ({share:.1f}% of responses); {policy}"
        )

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        return json.dumps(data, indent=2, sort_keys=True)

    def to_text(self) -> str:
        classes = "  ".join(f"{name} {count}" for name, count in self.status_classes.items())
        latency = "  ".join(f"{name} {value:.1f}" for name, value in self.latency_ms.items())
        operations = "  ".join(f"{name} {count}" for name, count in self.operations.items())
        return "\n".join(
            [
                f"loadgen summary for {self.url} ({self.duration_s:g} s, {self.setup_users} users)",
                self.rate_limit_line(),
                f"  rate       target {self.target_rps:g}/s  achieved {self.achieved_rps:g}/s"
                f"  (sent {self.sent}, dropped at in-flight cap {self.dropped})",
                f"  responses  {self.responses}  {classes or '-'}",
                f"  errors     connection {self.connection_errors}  timeout {self.timeouts}"
                f"  unfinished {self.unfinished}  5xx {self.status_classes.get('5xx', 0)}",
                f"  latency ms {latency}",
                f"  operations {operations or '-'}",
            ]
        )
