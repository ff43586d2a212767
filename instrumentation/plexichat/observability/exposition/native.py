"""Native (sparse exponential) buckets of one histogram series, for the protobuf exposition.

The extension point for native histograms: a collector builds its histograms as
:class:`NativeHistogramFamily` and passes ``native=`` per series; the protobuf encoder
(:mod:`~plexichat.observability.exposition.protobuf`) writes those buckets beside the classic
ones, and the text formats ignore them (their output stays byte for byte as before).

Indices follow Prometheus, not OpenTelemetry: with ``base = 2 ** 2 ** -schema``, bucket ``i``
holds the values in ``(base ** (i - 1), base ** i]`` (negative buckets the same for ``-v``), so
an OTel exponential histogram's bucket ``k`` (``(base ** k, base ** (k + 1)]``) is index
``k + 1`` here. Values in ``[-zero_threshold, zero_threshold]`` count in ``zero_count``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from prometheus_client.core import HistogramMetricFamily
from prometheus_client.samples import Exemplar, Timestamp

MIN_SCHEMA, MAX_SCHEMA = -4, 8
"""The schemas Prometheus accepts (``metrics.proto``: each power of two split into 2^schema)."""

LabelKey = tuple[tuple[str, str], ...]
"""A series' labels (bucket label ``le`` excluded), sorted by name."""


@dataclass(frozen=True, slots=True)
class NativeBuckets:
    """One series' native buckets: non-empty buckets by index (see the module docstring).

    Args:
        schema: Resolution, ``-4`` to ``8``.
        zero_threshold: Half-width of the zero bucket (``0.0``: only exact zeros).
        zero_count: Values in the zero bucket.
        positive: Count per index of the positive buckets (empty ones may be left out).
        negative: Count per index of the negative buckets.
    """

    schema: int
    zero_threshold: float
    zero_count: int
    positive: Mapping[int, int] = field(default_factory=dict)
    negative: Mapping[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not MIN_SCHEMA <= self.schema <= MAX_SCHEMA:
            raise ValueError(
                f"native buckets: schema {self.schema} is outside {MIN_SCHEMA}..{MAX_SCHEMA}"
            )
        if self.zero_threshold < 0 or self.zero_count < 0:
            raise ValueError("native buckets: zero_threshold and zero_count must be >= 0")
        for side in (self.positive, self.negative):
            if any(count < 0 for count in side.values()):
                raise ValueError("native buckets: a bucket count is negative")

    @property
    def count(self) -> int:
        """Values in all native buckets, the zero bucket included."""
        return self.zero_count + sum(self.positive.values()) + sum(self.negative.values())


def label_key(labels: Mapping[str, str]) -> LabelKey:
    """The key of a series' labels in :attr:`NativeHistogramFamily.native`."""
    return tuple(sorted((name, value) for name, value in labels.items() if name != "le"))


class NativeHistogramFamily(HistogramMetricFamily):
    """A prometheus_client histogram family whose series may also carry native buckets.

    Args: those of ``HistogramMetricFamily`` (``labels=``, ``unit=``; add series with
    :meth:`add_metric`).
    """

    def __init__(
        self, name: str, documentation: str, labels: Sequence[str] = (), unit: str = ""
    ) -> None:
        super().__init__(name, documentation, labels=labels, unit=unit)
        self.native: dict[LabelKey, NativeBuckets] = {}

    def add_metric(
        self,
        labels: Sequence[str],
        buckets: Sequence[tuple[str, float] | tuple[str, float, Exemplar]],
        sum_value: float | None,
        timestamp: Timestamp | float | None = None,
        native: NativeBuckets | None = None,
    ) -> None:
        """Add one series: its classic ``buckets`` (cumulative, ``+Inf`` last), sum, and
        optionally its native buckets."""
        super().add_metric(labels, buckets, sum_value, timestamp)
        if native is not None:
            self.native[label_key(dict(zip(self._labelnames, labels, strict=True)))] = native
