"""What a load run measured: running ``Stats``, the once-a-second progress line, the ``Summary``.

Latency is measured from each request's *scheduled* start, as an open-loop measurement should: if
the generator or the server falls behind, the wait counts (no coordinated omission).

The summary's first line is the generator's verdict on itself: it was the bottleneck when it used
``GENERATOR_CPU_LIMIT`` of its core or more, or handled its arrivals more than
``SEND_LAG_LIMIT_S`` late (p99 over every arrival: a sent one when its request starts, a dropped
one when it is dropped) -- then the latencies include its own delay and the server may have had
more to give.
Arrivals dropped at the in-flight cap are the server's doing (it held ``max_in_flight`` requests),
and are said so on their own line.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

GENERATOR_CPU_LIMIT = 0.9
"""The generator's CPU, as a fraction of one core, at which it counts as saturated."""
SEND_LAG_LIMIT_S = 0.005
"""p99 of how late arrivals were handled (sent, or dropped at the cap) after their due time,
beyond which the generator counts as the bottleneck."""


def percentile(sorted_values: list[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of ``sorted_values``; 0.0 if empty."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def _status_class(status: int) -> str:
    return f"{status // 100}xx"


@dataclass
class Stats:
    """Counters of a run, updated as responses arrive."""

    sent: int = 0
    dropped: int = 0
    connection_errors: int = 0
    connection_error_kinds: Counter[str] = field(default_factory=Counter)
    timeouts: int = 0
    unfinished: int = 0
    latencies_s: list[float] = field(default_factory=list)
    send_lags_s: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    rate_limit_policy: str | None = None
    _shown: int = 0  # latencies already summarised by progress_line

    def record(self, operation: str, status: int, latency_s: float) -> None:
        """Count one response of ``operation`` and its latency (seconds, from the scheduled
        start)."""
        if status == 429:
            self.rate_limited += 1
        self.latencies_s.append(latency_s)
        self.statuses[_status_class(status)] += 1
        self.operations[operation] += 1

    @property
    def responses(self) -> int:
        """Responses received (of any status)."""
        return len(self.latencies_s)

    @property
    def errors(self) -> int:
        """5xx responses, connection errors and timeouts (4xx are part of the mix)."""
        return self.statuses["5xx"] + self.connection_errors + self.timeouts

    def progress_line(self, elapsed_s: float) -> str:
        """Totals so far, and p50/p99 of the responses since the previous line (sorting every
        latency of a long run each second would stall the generator)."""
        ordered = sorted(self.latencies_s[self._shown :])
        self._shown = len(self.latencies_s)
        rate = self.sent / elapsed_s if elapsed_s > 0 else 0.0
        return (
            f"[{elapsed_s:5.1f}s] sent {self.sent}  rate {rate:.1f}/s  errors {self.errors}"
            f"  dropped {self.dropped}  last second: p50 {percentile(ordered, 50) * 1000:.1f} ms"
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
    generator_cpu: float = 0.0
    """The generator's CPU over the run, as a fraction of one core."""
    send_lag_ms: dict[str, float] = field(default_factory=dict)
    """How late requests were sent after their due time: p50, p99, max."""
    max_in_flight: int = 0
    connection_error_kinds: dict[str, int] = field(default_factory=dict)
    """Connection errors by ``ConnectError.kind`` (``closed_reused``, ``closed``, ...)."""

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
        generator_cpu: float = 0.0,
        max_in_flight: int = 0,
    ) -> Summary:
        """The summary of a finished run: rates, percentiles (ms), statuses and the generator's
        own load."""
        ordered = sorted(stats.latencies_s)
        lags = sorted(stats.send_lags_s)
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
            generator_cpu=round(generator_cpu, 3),
            send_lag_ms={
                name: round(value * 1000, 2)
                for name, value in (
                    ("p50", percentile(lags, 50)),
                    ("p99", percentile(lags, 99)),
                    ("max", lags[-1] if lags else 0.0),
                )
            },
            max_in_flight=max_in_flight,
            connection_error_kinds=dict(sorted(stats.connection_error_kinds.items())),
        )

    @property
    def unreachable(self) -> bool:
        """Every request sent failed to get any response."""
        return self.sent > 0 and self.responses == 0

    @property
    def generator_limited(self) -> bool:
        """Whether the generator itself could not keep up (see the module docstring)."""
        return (
            self.generator_cpu >= GENERATOR_CPU_LIMIT
            or self.send_lag_ms.get("p99", 0.0) > SEND_LAG_LIMIT_S * 1000
        )

    def generator_line(self) -> str:
        """The generator's verdict on itself: whether these figures are the server's."""
        lag = self.send_lag_ms.get("p99", 0.0)
        facts = f"CPU {self.generator_cpu:.0%} of one core, sends late by p99 {lag:.1f} ms"
        if self.generator_limited:
            return (
                f"  !! THE LOAD GENERATOR WAS THE BOTTLENECK ({facts}): latencies include its own"
                " delay and the achieved rate is its limit, not the server's; lower --rps or"
                " give it a core of its own"
            )
        return f"  generator  not the bottleneck ({facts})"

    def dropped_line(self) -> str:
        """The line about arrivals dropped at the in-flight cap, loud when there were any."""
        if not self.dropped:
            return "  dropped    0"
        return (
            f"  !! dropped {self.dropped} arrivals: {self.max_in_flight} requests were already in"
            " flight (--max-in-flight); the server was not keeping up with the arrival rate"
        )

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

    def _kinds(self) -> str:
        kinds = ", ".join(f"{kind} {n}" for kind, n in self.connection_error_kinds.items())
        return f" ({kinds})" if kinds else ""

    def to_json(self) -> str:
        """The summary as JSON (``loadgen --json``), keys sorted."""
        data: dict[str, Any] = asdict(self)
        return json.dumps(data, indent=2, sort_keys=True)

    def to_text(self) -> str:
        """The summary as the lines ``loadgen`` prints for people."""
        classes = "  ".join(f"{name} {count}" for name, count in self.status_classes.items())
        latency = "  ".join(f"{name} {value:.1f}" for name, value in self.latency_ms.items())
        operations = "  ".join(f"{name} {count}" for name, count in self.operations.items())
        return "\n".join(
            [
                f"loadgen summary for {self.url} ({self.duration_s:g} s, {self.setup_users} users)",
                self.generator_line(),
                self.rate_limit_line(),
                f"  rate       target {self.target_rps:g}/s  achieved {self.achieved_rps:g}/s"
                f"  (sent {self.sent})",
                self.dropped_line(),
                f"  responses  {self.responses}  {classes or '-'}",
                f"  errors     connection {self.connection_errors}{self._kinds()}  timeout"
                f" {self.timeouts}  unfinished {self.unfinished}"
                f"  5xx {self.status_classes.get('5xx', 0)}",
                f"  latency ms {latency}",
                f"  operations {operations or '-'}",
            ]
        )
