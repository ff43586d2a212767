"""Native histogram buckets: sparse base-2 exponential buckets kept beside the classic ones.

The semantics are OpenTelemetry's base-2 exponential bucket histogram, which Prometheus native
histograms share: at scale (Prometheus: schema) ``s`` the base is ``2 ** 2 ** -s`` and bucket
``i`` counts the values in ``(base ** i, base ** (i + 1)]``, so ``i = ceil(log2(v) * 2 ** s) - 1``
(a power of two is the upper bound of its bucket); values ``<= zero_threshold`` count in the
zero bucket. Durations are never negative, so there are positive buckets only: a negative value
(a clock step) counts in the zero bucket. Non-finite values (never a duration) are left out.
Prometheus numbers the same bucket ``i + 1`` (its index names the upper bound):
:func:`prometheus_buckets` translates.

The index is one ``log2``, a multiplication by ``2 ** s`` (exact) and a ``ceil`` (exact), so an
index at scale ``s - k`` is exactly the one at ``s`` shifted right by ``k``: halving the
resolution ("downscaling", merging pairs of buckets) gives the buckets recording at the lower
scale would have given, which is what makes a merge of workers equal one process recording
everything. (The OpenTelemetry SDK's ``LogarithmMapping`` computes the same index, with
``floor(log(v) * 2 ** s / ln 2)`` and powers of two special-cased; both are approximate only
for values within an ulp of a bucket boundary, as the specification allows.)

A series keeps its buckets in a fixed window of ``max_buckets`` cells (a fixed-size slot
record in multi-worker mode), laid out as::

    count of bucket start | ... | count of bucket start + max_buckets - 1 |
    zero count | scale | start | generation

``start`` is the bucket index of the first cell. When a value falls outside the window,
:func:`widen` moves it (centred on the buckets in use) or, when the buckets in use and the new
one span more than ``max_buckets``, lowers the scale until they fit, as the OpenTelemetry and
Prometheus clients do; never below :data:`MIN_SCALE`, where a value that still does not fit
counts in the window's nearest edge bucket (only a ``max_buckets`` of 1 or 2 can get there).
``generation`` is odd while :func:`widen` rewrites the window, so a reader copying the cells
(:func:`read`) retries rather than see a torn window.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableSequence, Sequence
from dataclasses import dataclass
from math import ceil, log2

MIN_SCALE = -4
MAX_SCALE = 8
"""Prometheus' native histogram schemas; OpenTelemetry allows a wider range."""
ZERO, SCALE, START, GENERATION = -4, -3, -2, -1
HEADER = 4
"""Cells after the window: zero count, scale, start, generation."""

Cells = MutableSequence[float]


@dataclass(frozen=True, slots=True)
class NativeSpec:
    """An instrument's native buckets, as the catalog's ``native:`` block chooses them."""

    schema: int
    max_buckets: int
    zero_threshold: float = 0.0

    def __post_init__(self) -> None:
        if not MIN_SCALE <= self.schema <= MAX_SCALE:
            raise ValueError(f"native schema must be {MIN_SCALE}..{MAX_SCALE}, got {self.schema}")
        if self.max_buckets < 1:
            raise ValueError(f"native max_buckets must be at least 1, got {self.max_buckets}")
        if not self.zero_threshold >= 0:
            raise ValueError(f"native zero_threshold must be >= 0, got {self.zero_threshold}")

    @property
    def cells(self) -> int:
        """Cells of one series' native state: the window and the header."""
        return self.max_buckets + HEADER


@dataclass(frozen=True, slots=True)
class NativePoint:
    """One series' native buckets as a collection reads them: ``counts[j]`` is bucket
    ``offset + j`` at ``scale`` (trimmed: the first and last are non-zero), OpenTelemetry's
    ``ExponentialHistogramDataPoint.positive``."""

    scale: int
    zero_threshold: float
    zero_count: int
    offset: int
    counts: tuple[int, ...]

    @property
    def count(self) -> int:
        """Values counted: the zero bucket and every positive bucket."""
        return self.zero_count + sum(self.counts)


def new_cells(spec: NativeSpec) -> list[float]:
    """An empty native state at the spec's schema."""
    cells = [0.0] * spec.cells
    cells[SCALE] = spec.schema
    return cells


def bucket_index(value: float, scale: int) -> int:
    """The bucket of ``value`` (positive, finite) at ``scale``: ``ceil(log2(v) * 2**s) - 1``."""
    return ceil(log2(value) * 2.0**scale) - 1


def _used(cells: Sequence[float], size: int) -> dict[int, int]:
    start = int(cells[START])
    return {start + i: int(cells[i]) for i in range(size) if cells[i]}


def _fit(buckets: Mapping[int, int], scale: int, size: int) -> tuple[int, dict[int, int]]:
    """``buckets`` at ``scale``, downscaled until they span at most ``size`` buckets (or the
    scale reaches :data:`MIN_SCALE`)."""
    if not buckets:
        return scale, {}
    low, high = min(buckets), max(buckets)
    shift = 0
    while (high >> shift) - (low >> shift) >= size and scale - shift > MIN_SCALE:
        shift += 1
    if not shift:
        return scale, dict(buckets)
    out: dict[int, int] = {}
    for index, count in buckets.items():
        out[index >> shift] = out.get(index >> shift, 0) + count
    return scale - shift, out


def _place(
    cells: Cells, scale: int, buckets: Mapping[int, int], size: int, kept: tuple[int, int]
) -> None:
    """Write ``buckets`` into the window, centred on them. When they span more than ``size``
    (only at :data:`MIN_SCALE`) the window keeps the range ``kept`` (the buckets it held) and
    the others count in its edge nearest to them."""
    for i in range(size):
        cells[i] = 0.0
    if buckets:
        low, high = min(buckets), max(buckets)
        if high - low < size:
            start = low - (size - (high - low + 1)) // 2
        else:
            start = kept[0] if high > kept[1] else kept[1] - size + 1
        for index, count in buckets.items():
            cells[min(max(index - start, 0), size - 1)] += count
        cells[START] = start
    cells[SCALE] = scale


def widen(cells: Cells, index: int, size: int) -> None:
    """Count bucket ``index`` (at the window's scale), which lies outside the window: move the
    window, downscaling when the buckets no longer fit in ``size`` cells."""
    cells[GENERATION] += 1  # odd: the window is being rewritten
    old_scale = int(cells[SCALE])
    buckets = _used(cells, size)
    kept = (min(buckets), max(buckets)) if buckets else (index, index)
    buckets[index] = buckets.get(index, 0) + 1
    scale, fitted = _fit(buckets, old_scale, size)
    shift = old_scale - scale
    _place(cells, scale, fitted, size, (kept[0] >> shift, kept[1] >> shift))
    cells[GENERATION] += 1


def read(cells: Sequence[float]) -> list[float]:
    """A consistent copy of the native state ``cells`` (a list, or a view of a slot that
    another process writes): copied again while its generation is odd (the writer is moving
    the window) or has changed by the time the copy is done."""
    while True:
        copy = list(cells)
        if not copy[GENERATION] % 2 and cells[GENERATION] == copy[GENERATION]:
            return copy


def _dense(scale: int, zero_threshold: float, zero: int, used: Mapping[int, int]) -> NativePoint:
    if not used:
        return NativePoint(scale, zero_threshold, zero, 0, ())
    low, high = min(used), max(used)
    counts = tuple(used.get(i, 0) for i in range(low, high + 1))
    return NativePoint(scale, zero_threshold, zero, low, counts)


def point(cells: Sequence[float], spec: NativeSpec) -> NativePoint:
    """The point of a (consistent) native state."""
    used = _used(cells, spec.max_buckets)
    return _dense(int(cells[SCALE]), spec.zero_threshold, int(cells[ZERO]), used)


def _buckets(p: NativePoint) -> dict[int, int]:
    return {p.offset + j: c for j, c in enumerate(p.counts) if c}


def merge(a: NativePoint, b: NativePoint, size: int) -> NativePoint:
    """The buckets of ``a`` and ``b`` together, at the finest scale (not above either's) at
    which they fit in ``size`` buckets: what one series recording both sets of values holds."""
    scale = min(a.scale, b.scale)
    buckets: dict[int, int] = {}
    for p in (a, b):
        for index, count in _buckets(p).items():
            at = index >> (p.scale - scale)
            buckets[at] = buckets.get(at, 0) + count
    scale, fitted = _fit(buckets, scale, size)
    if fitted and max(fitted) - min(fitted) >= size:  # only at MIN_SCALE
        cells = [0.0] * (size + HEADER)
        _place(cells, scale, fitted, size, (min(fitted), min(fitted)))
        fitted = _used(cells, size)
    return _dense(scale, a.zero_threshold, a.zero_count + b.zero_count, fitted)


def write(cells: Cells, p: NativePoint, size: int) -> None:
    """Store point ``p`` (which fits in ``size`` buckets) as the native state ``cells``."""
    cells[GENERATION] += 1
    _place(cells, p.scale, _buckets(p), size, (p.offset, p.offset))
    cells[ZERO] = p.zero_count
    cells[GENERATION] += 1
