"""The arithmetic of ``scripts/bench quantiles``: the true quantile of recorded durations, and
an estimate's relative error against it.

The true q-quantile is the nearest-rank one: the smallest recorded value with at least
``q * n`` values at or below it (``sorted[ceil(q * n) - 1]``). It is what
``histogram_quantile`` estimates: it looks for the bucket where the cumulative count reaches
``q * count`` and interpolates inside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence


def true_quantile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-quantile of ``values`` (0 < q <= 1)."""
    if not values:
        raise ValueError("no values: the quantile of nothing is undefined")
    if not 0.0 < q <= 1.0:
        raise ValueError(f"quantile {q} is not in (0, 1]")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered) - 1e-9) - 1)]


def relative_error(estimate: float, truth: float) -> float:
    """``(estimate - truth) / truth``: signed, 0.25 is 25 % too high."""
    if truth <= 0:
        raise ValueError(f"true value {truth} is not positive: no relative error")
    return (estimate - truth) / truth
