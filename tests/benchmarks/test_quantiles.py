"""``scripts/bench quantiles``: its arithmetic (the true quantile, the relative error, the
distributions it draws) and, end to end, a short run against a real Prometheus."""

from __future__ import annotations

import bisect
import math
import statistics

import pytest

from benchmarks.distributions import BY_NAME, DISTRIBUTIONS
from benchmarks.estimators import ESTIMATORS
from benchmarks.quantile_truth import relative_error, true_quantile
from benchmarks.quantiles import error_table, parse, run
from plexichat.catalog import load_catalog
from tests.support.tools import require_tool, requires_tool


def test_the_true_quantile_is_the_nearest_rank_one() -> None:
    values = [float(v) for v in range(100, 0, -1)]  # 1..100, unsorted
    assert true_quantile(values, 0.5) == 50.0
    assert true_quantile(values, 0.95) == 95.0
    assert true_quantile(values, 0.07) == 7.0  # 0.07 * 100 is 7.000000000000001 in floats
    assert true_quantile(values, 0.99) == 99.0
    assert true_quantile(values, 1.0) == 100.0
    assert true_quantile(values, 0.001) == 1.0
    assert true_quantile([7.0, 3.0, 5.0], 0.5) == 5.0
    assert true_quantile([3.0, 5.0], 0.5) == 3.0  # rank ceil(1.0) = 1: no interpolation
    assert true_quantile([3.0, 5.0], 0.51) == 5.0


def test_the_true_quantile_refuses_what_has_none() -> None:
    with pytest.raises(ValueError, match="no values"):
        true_quantile([], 0.5)
    with pytest.raises(ValueError, match="not in"):
        true_quantile([1.0], 0.0)


def test_the_relative_error_is_signed_and_scaled_by_the_truth() -> None:
    assert relative_error(0.0125, 0.01) == pytest.approx(0.25)
    assert relative_error(0.009, 0.01) == pytest.approx(-0.1)
    assert relative_error(0.01, 0.01) == 0.0
    with pytest.raises(ValueError, match="not positive"):
        relative_error(1.0, 0.0)


def test_the_drawn_distributions_have_their_medians_and_spread() -> None:
    for distribution in DISTRIBUTIONS:
        durations = distribution.durations(seed=1, scale=20_000 / distribution.samples)
        assert durations == distribution.durations(seed=1, scale=20_000 / distribution.samples)
        if len(distribution.modes) == 1:
            ((_, median, sigma),) = distribution.modes
            logs = [math.log(d) for d in durations]
            assert statistics.median(durations) == pytest.approx(median, rel=0.03)
            assert statistics.stdev(logs) == pytest.approx(sigma, rel=0.03)
    bimodal = BY_NAME["bimodal-2ms-200ms"].durations(seed=1)
    slow = sum(d > 0.02 for d in bimodal) / len(bimodal)  # far from both modes' bulk
    assert slow == pytest.approx(0.1, abs=0.01)
    assert true_quantile(bimodal, 0.5) < 0.003 < 0.15 < true_quantile(bimodal, 0.95)


def test_the_table_has_a_column_pair_per_estimator_and_says_n_a() -> None:
    row = {"distribution": "d", "n": 10, "q": 0.95, "true_s": 0.004}
    row |= {name: {"estimate_s": None, "error": None} for name in ESTIMATORS}
    row["classic"] = {"estimate_s": 0.005, "error": 0.25}
    table = error_table([row])
    assert "| classic ms | classic error | native ms | native error |" in table
    assert "| d | 10 | p95 | 4 | 5 | +25.0% | n/a | n/a |" in table


def test_unknown_distributions_are_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["--distributions", "lognormal-3ms,uniform"])
    assert "unknown ['uniform']" in capsys.readouterr().err


@requires_tool("prometheus")
def test_a_short_run_measures_the_classic_error_through_prometheus() -> None:
    require_tool("prometheus")
    # ~10 s: 1,000 requests of the 3 ms lognormal, 1,000 of the bimodal mix
    args = parse(["--scale", "0.05", "--distributions", "lognormal-3ms,bimodal-2ms-200ms"])
    rows, runs = run(args)  # raises unless both servers hold every recorded duration
    assert [r["requests"] for r in runs] == [1000, 1000]
    assert [(r["distribution"], r["q"]) for r in rows] == [
        (d, q) for d in ("lognormal-3ms", "bimodal-2ms-200ms") for q in (0.5, 0.95, 0.99)
    ]
    bounds = load_catalog().bucket_boundaries("http.server.request.duration")
    for row in rows:
        assert row["n"] == 1000
        # histogram_quantile interpolates inside the bucket that holds the true quantile
        upper = bisect.bisect_left(bounds, row["true_s"])
        lower = bounds[upper - 1] if upper else 0.0
        assert lower <= row["classic"]["estimate_s"] <= bounds[upper], row
        assert row["classic"]["error"] == pytest.approx(
            row["classic"]["estimate_s"] / row["true_s"] - 1
        )
    # native: n/a throughout until Prometheus stores native histograms, then a value throughout
    assert len({row["native"]["estimate_s"] is None for row in rows}) == 1, rows
