"""``scripts/bench toolkit`` runs (its figures are recorded in docs/benchmarks.md)."""

from benchmarks.logger import logger_costs


def test_logger_micro_benchmark_runs() -> None:
    costs = logger_costs(number=200, repeat=1)
    assert len(costs) == 8
    assert all(cost > 0 for _, cost in costs)
