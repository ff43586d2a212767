"""scripts/bench's parsing and arithmetic (no timing: nothing here measures anything)."""

import pytest

from benchmarks.load import parse_wrk
from benchmarks.report import summarise, verdicts

WRK = """Running 3s test @ http://127.0.0.1:8000/api/items/42
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.61ms  412.10us  12.31ms   93.10%
    Req/Sec    12.30k   600.12    13.00k    80.00%
  Latency Distribution
     50%    2.55ms
     75%    2.70ms
     90%    2.90ms
     99%  850.00us
  36900 requests in 3.00s, 6.23MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  12299.51
Transfer/sec:      2.08MB
"""


def test_parse_wrk_reads_counts_latencies_and_errors() -> None:
    r = parse_wrk(WRK)
    assert r.requests == 36900
    assert r.seconds == pytest.approx(3.0)
    assert r.rps == pytest.approx(12299.51)
    assert r.p50 == pytest.approx(2.55e-3)
    assert r.p99 == pytest.approx(850e-6)
    assert r.errors == 7


def test_parse_wrk_refuses_garbage() -> None:
    with pytest.raises(ValueError, match="unparsable"):
        parse_wrk("connection refused")


def _round(variant: str, n: int, requests: int, cpu_s: float, p99: float) -> dict[str, object]:
    return {"variant": variant, "round": n, "requests": requests, "cpu_s": cpu_s,
            "seconds": 10.0, "rps": requests / 10, "p50": p99 / 2, "p99": p99,
            "errors": 0, "served": requests, "spans": None}  # fmt: skip


def test_ratios_are_paired_per_round_and_verdicts_show_misses() -> None:
    rounds = [
        _round("baseline", 0, 1000, 1.0, 0.010),
        _round("plexichat", 0, 960, 1.0, 0.010),
        _round("baseline", 1, 500, 1.0, 0.010),  # a slow round: ratios stay paired
        _round("plexichat", 1, 450, 1.0, 0.010),
        _round("plexichat-traced-10", 0, 800, 1.0, 0.020),
        _round("plexichat-traced-10", 1, 400, 1.0, 0.020),
    ]
    summary = summarise(rounds, ["baseline", "plexichat", "plexichat-traced-10"])
    ratio = summary["plexichat"]["norm_vs_baseline"]
    assert ratio["min"] == pytest.approx(0.90)
    assert ratio["max"] == pytest.approx(0.96)
    assert ratio["median"] == pytest.approx(0.93)
    assert summary["plexichat"]["cpu_us"]["median"] == pytest.approx(1e6 * (1 / 960 + 1 / 450) / 2)
    by_name = {v["name"]: v for v in verdicts(rounds)}
    assert by_name["P1"]["status"] == "MISS"  # 0.93 < 0.95
    assert by_name["P2a"]["status"] == "MISS"  # 0.80 < 0.90
    assert by_name["P2b"]["status"] == "n/a (not run)"
    assert by_name["P6"]["ratio"]["median"] == pytest.approx(2.0)
    assert by_name["P6"]["status"] == "MISS"
