"""The delimited protobuf exposition: each ``io.prometheus.client.MetricFamily`` prefixed by
its length as a varint (``application/vnd.google.protobuf; proto=...; encoding=delimited``),
the format Prometheus asks for first when it stores native histograms.

:func:`encode` translates what a prometheus_client registry collects, so the series Prometheus
stores from it are those it stores from the text format: a counter's family is named with
its ``_total`` (Prometheus appends nothing to a protobuf counter), an info family with its
``_info``, a histogram's without ``_bucket``/``_count``/``_sum`` (Prometheus appends them), and
``_created``/``_gsum``/``_gcount`` samples go to gauge families of their own, as the text
format prints them. One difference Prometheus makes itself: it formats a bucket's upper bound
as Go does (``le="1e+06"``), where the text format carries our string (``le="1000000.0"``).

Histogram series carry their classic buckets (with their exemplars) always, and their native
buckets when the family is a
:class:`~plexichat.observability.exposition.native.NativeHistogramFamily` that has some for
the series.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Exemplar, Sample

from plexichat.observability.exposition import metrics_pb2 as pb
from plexichat.observability.exposition.native import (
    LabelKey,
    NativeBuckets,
    NativeHistogramFamily,
)

CONTENT_TYPE = (
    "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
)
SEPARATE = ("_created", "_gsum", "_gcount")
"""Samples the text format prints as gauge families of their own (``<name><suffix>``)."""
MAX_GAP = 2
"""Empty buckets a span runs through as zero deltas rather than starting a new span (a span
costs two fields, a zero delta one byte; client_golang's choice)."""


def _labels(message: pb.Metric | pb.Exemplar, labels: Mapping[str, str]) -> None:
    for name in sorted(labels):
        message.label.add(name=name, value=labels[name])


def _exemplar(target: pb.Exemplar, exemplar: Exemplar) -> None:
    _labels(target, exemplar.labels)
    target.value = exemplar.value
    if exemplar.timestamp is not None:
        target.timestamp.FromNanoseconds(round(float(exemplar.timestamp) * 1e9))


def _metric(family: pb.MetricFamily, sample: Sample, labels: Mapping[str, str]) -> pb.Metric:
    metric = family.metric.add()
    _labels(metric, labels)
    if sample.timestamp is not None:
        metric.timestamp_ms = int(float(sample.timestamp) * 1000)
    return metric


def _spans(buckets: Mapping[int, int]) -> tuple[list[tuple[int, int]], list[int]]:
    """``(offset, length)`` spans of sparse ``buckets`` and the delta of each bucket they cover
    to the one before it (the first to zero), as ``metrics.proto`` has them."""
    spans: list[tuple[int, int]] = []
    counts: list[int] = []
    last: int | None = None
    for index in sorted(i for i, count in buckets.items() if count):
        if last is not None and index - last - 1 <= MAX_GAP:
            counts.extend([0] * (index - last - 1))
            offset, length = spans[-1]
            spans[-1] = (offset, length + index - last)
        else:
            spans.append((index if last is None else index - last - 1, 1))
        counts.append(buckets[index])
        last = index
    deltas = [count - before for count, before in zip(counts, [0, *counts], strict=False)]
    return spans, deltas


def _native(histogram: pb.Histogram, native: NativeBuckets) -> None:
    histogram.schema = native.schema
    histogram.zero_threshold = native.zero_threshold
    histogram.zero_count = native.zero_count
    spans, deltas = _spans(native.positive)
    for offset, length in spans:
        histogram.positive_span.add(offset=offset, length=length)
    histogram.positive_delta.extend(deltas)
    spans, deltas = _spans(native.negative)
    for offset, length in spans:
        histogram.negative_span.add(offset=offset, length=length)
    histogram.negative_delta.extend(deltas)
    if not histogram.positive_span and not histogram.negative_span and not native.zero_threshold:
        # metrics.proto: a no-op span tells an empty native histogram from a classic one
        histogram.positive_span.add(offset=0, length=0)


_TYPES = {
    "counter": pb.COUNTER,
    "gauge": pb.GAUGE,
    "info": pb.GAUGE,
    "stateset": pb.GAUGE,
    "unknown": pb.UNTYPED,
    "summary": pb.SUMMARY,
    "histogram": pb.HISTOGRAM,
}
_NAMES = {"counter": "_total", "info": "_info"}
"""The suffix of a family's name in the text format, and so in Prometheus' series."""


def encode(registry: Collector) -> bytes:
    """Everything ``registry`` collects, as delimited ``MetricFamily`` messages."""
    out = bytearray()
    for metric in registry.collect():
        for family in _families(metric):
            data = family.SerializeToString()
            out += _varint(len(data))
            out += data
    return bytes(out)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _families(metric: Metric) -> list[pb.MetricFamily]:
    """``metric`` as the families the text format prints it as (see the module docstring)."""
    if metric.type not in _TYPES:
        raise ValueError(
            f"protobuf exposition: family {metric.name!r} has type {metric.type!r}, which it "
            f"cannot carry (it carries {', '.join(_TYPES)})"
        )
    name = metric.name + _NAMES.get(metric.type, "")
    family = pb.MetricFamily(
        name=name, help=metric.documentation, type=_TYPES[metric.type], unit=metric.unit
    )
    separate: dict[str, pb.MetricFamily] = {}
    samples: list[Sample] = []
    for sample in metric.samples:
        suffix = next((s for s in SEPARATE if sample.name == metric.name + s), None)
        if suffix is None:
            samples.append(sample)
            continue
        gauge = separate.get(suffix)
        if gauge is None:
            gauge = separate[suffix] = pb.MetricFamily(
                name=sample.name, help=metric.documentation, type=pb.GAUGE
            )
        _metric(gauge, sample, sample.labels).gauge.value = sample.value
    if metric.type == "histogram":
        _histograms(metric, samples, family)
    elif metric.type == "summary":
        _summaries(metric.name, samples, family)
    else:
        for sample in samples:
            _value(family, sample)
    return [family] + [separate[suffix] for suffix in sorted(separate)]


def _value(family: pb.MetricFamily, sample: Sample) -> None:
    metric = _metric(family, sample, sample.labels)
    if family.type == pb.COUNTER:
        metric.counter.value = sample.value
        if sample.exemplar is not None:
            _exemplar(metric.counter.exemplar, sample.exemplar)
    elif family.type == pb.GAUGE:
        metric.gauge.value = sample.value
    else:
        metric.untyped.value = sample.value


def _grouped(
    family: pb.MetricFamily, samples: list[Sample], drop: str
) -> Iterable[tuple[pb.Metric, LabelKey, Sample]]:
    """Each sample with the series it belongs to: its labels but ``drop`` (new series in the
    order they first appear)."""
    series: dict[LabelKey, pb.Metric] = {}
    for sample in samples:
        key = tuple(sorted((k, v) for k, v in sample.labels.items() if k != drop))
        metric = series.get(key)
        if metric is None:
            metric = series[key] = _metric(family, sample, dict(key))
        yield metric, key, sample


def _histograms(metric: Metric, samples: list[Sample], family: pb.MetricFamily) -> None:
    native = metric.native if isinstance(metric, NativeHistogramFamily) else {}
    counted: set[LabelKey] = set()
    for series, key, sample in _grouped(family, samples, "le"):
        histogram = series.histogram
        if sample.name == metric.name + "_bucket":
            bucket = histogram.bucket.add(
                cumulative_count=int(sample.value), upper_bound=float(sample.labels["le"])
            )
            if sample.exemplar is not None:
                _exemplar(bucket.exemplar, sample.exemplar)
            if key not in counted:  # a histogram without _count (negative buckets): the +Inf
                histogram.sample_count = int(sample.value)
        elif sample.name == metric.name + "_count":
            histogram.sample_count = int(sample.value)
            counted.add(key)
        elif sample.name == metric.name + "_sum":
            histogram.sample_sum = sample.value
        if key in native and not histogram.HasField("schema"):
            _native(histogram, native[key])


def _summaries(name: str, samples: list[Sample], family: pb.MetricFamily) -> None:
    for series, _, sample in _grouped(family, samples, "quantile"):
        summary = series.summary
        if sample.name == name:
            summary.quantile.add(quantile=float(sample.labels["quantile"]), value=sample.value)
        elif sample.name == name + "_count":
            summary.sample_count = int(sample.value)
        elif sample.name == name + "_sum":
            summary.sample_sum = sample.value
