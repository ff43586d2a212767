"""Reading Prometheus exposition the way Prometheus does (prometheus_client's parser)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (s.name, dict(s.labels), s.value)
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def value(text: str, name: str, **labels: str) -> float:
    """Sum of the samples named ``name`` whose labels include ``labels`` (0 if none)."""
    return sum(v for n, ls, v in samples(text) if n == name and labels.items() <= ls.items())


def series(text: str, name: str) -> list[dict[str, str]]:
    return [ls for n, ls, _ in samples(text) if n == name]


def families(text: str) -> set[str]:
    """Metric family names (histograms and counters without their sample suffixes)."""
    return {family.name for family in text_string_to_metric_families(text)}
