"""scripts/bench capacity's report: the tables carry every column, the plot is a PNG."""

from __future__ import annotations

from pathlib import Path

from benchmarks import capacity_report


def _step(rate: float, p99: float, ok: bool) -> dict[str, object]:
    return {
        "source": "abc123 (HEAD)", "backend": "sqlite", "rate": rate, "achieved": rate,
        "p50_ms": 2.0, "p99_ms": p99, "dropped": 0, "errors": 0, "server_cpu": 0.8,
        "requests_per_cpu_s": 1250.0, "generator_cpu": 0.3, "generator_limited": False,
        "postgres_cpu": None, "hit_ratio": 0.95, "ok": ok,
    }  # fmt: skip


def test_knee_table_and_plot(tmp_path: Path) -> None:
    steps = [_step(500, 10.0, True), _step(1000, 40.0, True), _step(1500, 900.0, False)]
    costs = [
        {"source": "abc123 (HEAD)", "posts": n, "operation": "create_post",
         "cpu_ms_per_request": 1.5, "p99_ms": 5.0}
        for n in (100, 100_000)
    ]  # fmt: skip
    table = capacity_report.knee_table(steps)
    assert table.count("\n") == 4
    assert "| 1000 | 1000.0 | 2.0 | 40.0 | 80% | 1250 | 30% | - | 95% | 0 | 0 | ok |" in table
    assert table.rstrip().endswith("missed |")
    assert "| 100,000 | create_post | 1.50 |" in capacity_report.write_cost_table(costs)
    png = tmp_path / "capacity.png"
    capacity_report.plot(steps, costs, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
