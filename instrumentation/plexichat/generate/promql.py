"""PromQL's structural templates, written once, and its numbers written the same way everywhere.

Metric PromQL (what a value of the guide's table is) lives in the catalog; what is here is
shape only -- a threshold comparison, target up/absent, series-budget overflow, the latency
SLI over a histogram's bucket, multi-window burn rates -- with series names passed in (from
the catalog's instruments).
"""

from __future__ import annotations

import math

from plexichat.catalog import AlertRule, MetricEntry
from plexichat.catalog.validation import duration_seconds

seconds = duration_seconds
"""``"1h30m"`` -> 5400.0 (the Prometheus duration rule lives in ``catalog.validation``)."""


def duration(value_s: float) -> str:
    """Seconds as a Prometheus duration, to the millisecond: ``6.0`` -> ``6s``, ``1.5`` ->
    ``1500ms``, ``0`` -> ``0s``."""
    millis = round(value_s * 1000)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def number(value: float) -> str:
    """A threshold as PromQL and humans write it: ``0.5``, ``500``, ``0.0144``."""
    return f"{value:.10g}"


def percent(ratio: float) -> str:
    """A ratio as a percentage for people: ``0.999`` -> ``99.9 %``."""
    return f"{ratio * 100:.10g} %"


def milliseconds(value: float) -> str:
    """Seconds as milliseconds for people: ``0.5`` -> ``500 ms``."""
    return f"{value * 1000:.10g} ms"


def display(entry: MetricEntry, value: float) -> str:
    """A value of ``entry`` in its display unit: ``500 ms``, ``1 %``, ``500 req/s``."""
    return f"{value * entry.scale:.10g} {entry.display_unit}"


def humanized(entry: MetricEntry | AlertRule) -> str:
    """An alert template that prints ``$value`` in the entry's unit."""
    if entry.value_unit == "s":
        return "{{ $value | humanizeDuration }}"
    if entry.value_unit == "1":
        return "{{ $value | humanizePercentage }}"
    return f"{{{{ $value | humanize }}}} {entry.display_unit}"


def le_matcher(boundary: float) -> str:
    """A matcher on the ``le`` label of one bucket boundary that accepts each way it is
    spelled: ``le=~"1([.]0)?"`` matches ``1.0`` (our exposition, client_python, and Prometheus
    3, which normalises every classic bucket's ``le`` to a float) and ``1`` (Go clients, kept as
    written by Prometheus 2); ``le=~"0[.]5"`` (one spelling); from 1e6 up, and below 1e-4, also
    Go's shortest form, which Prometheus 3 (and Prometheus 2 on a protobuf scrape) writes:
    ``le=~"1000000([.]0)?|1e[+]06"``. ``[.]`` rather than ``\\.``: a backslash would need
    escaping again inside the PromQL, YAML and JSON strings."""
    value = float(boundary)
    if value.is_integer() and abs(value) < 1e16:  # repr switches to 1e+16 from there
        spellings = [f"{int(value)}([.]0)?"]
    else:
        spellings = [_escaped(repr(value))]
    exponent = math.floor(math.log10(abs(value))) if value else 0
    mantissa = repr(value).split("e")[0].replace("-", "").replace(".", "").strip("0")
    go = f"{value:.{max(len(mantissa) - 1, 0)}e}"  # Go's %g, shortest: 1e+06, 2.5e+06, 1e-05
    if (exponent < -4 or exponent >= 6) and go != repr(value):
        spellings.append(_escaped(go))
    return f'le=~"{"|".join(spellings)}"'


def _escaped(spelling: str) -> str:
    return spelling.replace(".", "[.]").replace("+", "[+]")


def _sum(by: tuple[str, ...]) -> str:
    return f"sum by ({', '.join(by)})" if by else "sum"


def _native_or_classic(native: str, classic: str) -> str:
    """``native`` where Prometheus stores the histogram as a native one, else ``classic``
    (the same value from the ``_bucket``/``_count``/``_sum`` series), label set by label set.
    A Prometheus that stores both (3.x with ``always_scrape_classic_histograms``) answers from
    the native one; 2.42 with native histograms on stores no classic series of a histogram
    that has native buckets, one without the flag no native ones."""
    return f"{native}\nor {classic}"


def histogram_quantile(
    q: float, family: str, selector: str, window: str, by: tuple[str, ...] = ()
) -> str:
    """The ``q``-quantile of histogram ``family`` over ``window``, per ``by``: from its native
    histogram (not bounded by the classic buckets), else from its classic ``_bucket`` series."""
    return _native_or_classic(
        f"histogram_quantile({q}, {_sum(by)} (rate({family}{{{selector}}}[{window}])))",
        f"histogram_quantile({q}, {_sum((*by, 'le'))} "
        f"(rate({family}_bucket{{{selector}}}[{window}])))",
    )


def native_rate(family: str, selector: str, window: str, by: tuple[str, ...] = ()) -> str:
    """Observations per second of histogram ``family`` over ``window``, per ``by``, counted in
    its native histogram alone: a sample exactly where :func:`histogram_quantile`'s native half
    answers (the classic series are named ``_bucket``, ``_count``, ``_sum``)."""
    return f"{_sum(by)} (histogram_count(rate({family}{{{selector}}}[{window}])))"


def observed_rate(family: str, selector: str, window: str, by: tuple[str, ...] = ()) -> str:
    """Observations of histogram ``family`` per second over ``window``, per ``by`` (requests
    per second of a request-duration histogram): ``histogram_count`` of the native histogram,
    else the classic ``_count``."""
    return _native_or_classic(
        native_rate(family, selector, window, by),
        f"{_sum(by)} (rate({family}_count{{{selector}}}[{window}]))",
    )


def mean(family: str, selector: str, window: str, by: tuple[str, ...] = ()) -> str:
    """The mean observation of histogram ``family`` over ``window``, per ``by``; no sample
    where nothing was observed."""
    rated = f"rate({family}{{{selector}}}[{window}])"
    return _native_or_classic(
        f"({_sum(by)} (histogram_sum({rated}))\n/ ({_sum(by)} (histogram_count({rated})) > 0))",
        f"({_sum(by)} (rate({family}_sum{{{selector}}}[{window}]))\n"
        f"/ ({_sum(by)} (rate({family}_count{{{selector}}}[{window}])) > 0))",
    )


def slower_rate(
    family: str, threshold: float, selector: str, window: str, by: tuple[str, ...] = ()
) -> str:
    """Observations of histogram ``family`` above ``threshold`` per second over ``window``, per
    ``by``. Exact where ``threshold`` is a bucket boundary (classic: one of its ``le``; native:
    a power of 2^(2^-schema), as 0.5 and 1 are for every schema >= 0), else interpolated
    inside the bucket that holds it. Where nothing was observed, 0 (the native fraction of
    nothing is NaN: ``>= 0`` drops it, ``== 0`` puts the 0 back)."""
    native = f"{_sum(by)} (rate({family}{{{selector}}}[{window}]))"
    matchers = ", ".join(m for m in (le_matcher(threshold), selector) if m)
    return _native_or_classic(
        f"(histogram_count({native})\n"
        f"* (1 - histogram_fraction(0, {number(threshold)}, {native})) >= 0)\n"
        f"or histogram_count({native}) == 0",
        f"({_sum(by)} (rate({family}_count{{{selector}}}[{window}]))\n"
        f"- {_sum(by)} (rate({family}_bucket{{{matchers}}}[{window}])))",
    )


def crossing(query: str, op: str, value: float) -> str:
    """``query`` compared with a threshold: an alert's condition."""
    return f"(\n{query}\n) {op} {number(value)}"


def target_down(selector: str) -> str:
    """Scrape targets Prometheus cannot reach."""
    return f"up{{{selector}}} == 0"


def target_absent(selector: str) -> str:
    """No scrape target at all (service discovery lost it)."""
    return f"absent(up{{{selector}}})"


def scraped_without(histogram: str, selector: str) -> str:
    """Targets scraped (``up == 1``) while histogram ``histogram`` is absent from all of them,
    as a native histogram and as its classic ``_count`` series: the instrumentation is off or
    relabelled away, which ``up`` alone never shows."""
    return (
        f"absent({histogram}_count{{{selector}}})\nand absent({histogram}{{{selector}}})\n"
        f"and on () (count(up{{{selector}}} == 1) > 0)"
    )


def overflowed(series: str, selector: str, window: str = "5m") -> str:
    """Label sets folded into a metric's overflow series within ``window``, by metric."""
    return f"sum by (job, instance, metric) (increase({series}{{{selector}}}[{window}])) > 0"


def slow_ratio(histogram: str, threshold: float, window: str) -> str:
    """The latency SLI: the share of a histogram's observations above ``threshold`` (a bucket
    boundary), per job; no sample where nothing was observed (``>= 0`` drops the native
    half's NaN, the ``> 0`` the classic half's division by zero)."""
    le = le_matcher(threshold)
    native = f"sum by (job) (rate({histogram}[{window}]))"
    return _native_or_classic(
        f"(1 - histogram_fraction(0, {number(threshold)}, {native})) >= 0",
        f"1 - (sum by (job) (rate({histogram}_bucket{{{le}}}[{window}]))\n"
        f"/ (sum by (job) (rate({histogram}_count[{window}])) > 0))",
    )


def average_over(series: str, window: str) -> str:
    """A recorded ratio averaged over a long window (an SLO's whole period)."""
    return f"avg_over_time({series}[{window}])"


def burning(long_sli: str, short_sli: str, selector: str, limit: str) -> str:
    """Multi-window burn rate: both windows above the limit."""
    sel = f"{{{selector}}}"
    return f"{long_sli}{sel} > {limit}\nand\n{short_sli}{sel} > {limit}"
