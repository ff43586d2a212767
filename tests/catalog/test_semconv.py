"""Catalog instruments that the OpenTelemetry semantic conventions define match them.

The reference is the ``opentelemetry-semantic-conventions`` package the SDK installs: metric
names from ``opentelemetry.semconv.metrics`` (stable) and ``opentelemetry.semconv._incubating
.metrics``, and each name's ``create_…`` helper, run against a real SDK meter, for the kind,
unit and description. A synchronous instrument and its observable form count as the same
kind (the conventions' ``process.memory.usage`` helper creates a synchronous up-down counter;
we observe one). Attribute names must be semantic-convention attributes too.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import opentelemetry.semconv._incubating.attributes as incubating_attributes
import opentelemetry.semconv._incubating.metrics as incubating_metrics
import opentelemetry.semconv.attributes as stable_attributes
import opentelemetry.semconv.metrics as stable_metrics
import pytest
from opentelemetry.metrics import (
    Counter,
    Histogram,
    ObservableCounter,
    ObservableGauge,
    ObservableUpDownCounter,
    UpDownCounter,
)
from opentelemetry.metrics import _Gauge as Gauge
from opentelemetry.sdk.metrics import MeterProvider

from plexichat.catalog import Instrument, default_catalog

KINDS: tuple[tuple[tuple[type, ...], str], ...] = (
    ((Histogram,), "histogram"),
    ((Counter, ObservableCounter), "counter"),
    ((UpDownCounter, ObservableUpDownCounter), "updowncounter"),
    ((Gauge, ObservableGauge), "gauge"),
)
OURS = "plexichat."
"""Our own namespace: everything else must be a semantic-convention name."""


def _modules(package: ModuleType) -> Iterator[ModuleType]:
    for info in pkgutil.iter_modules(package.__path__):
        yield importlib.import_module(f"{package.__name__}.{info.name}")


def _constants(package: ModuleType) -> dict[str, tuple[ModuleType, str]]:
    """Every string constant of the package's modules: value -> (module, constant name)."""
    found: dict[str, tuple[ModuleType, str]] = {}
    for module in _modules(package):
        for key, value in vars(module).items():
            if key.isupper() and isinstance(value, str):
                found.setdefault(value, (module, key))
    return found


STABLE_METRICS = _constants(stable_metrics)
METRICS = _constants(incubating_metrics)
ATTRIBUTES = set(_constants(stable_attributes)) | set(_constants(incubating_attributes))
SEMCONV_INSTRUMENTS = [i for i in default_catalog().instruments if i.name in METRICS]


def _kind(instrument: object) -> str:
    for types, kind in KINDS:
        if isinstance(instrument, types):
            return kind
    raise AssertionError(f"unknown instrument type {type(instrument).__name__}")


def _created(name: str) -> Any:
    """What the conventions' ``create_…`` helper for ``name`` makes on a real SDK meter."""
    module, constant = METRICS[name]
    create: Callable[..., Any] = getattr(module, f"create_{constant.lower()}")
    provider = MeterProvider()
    meter = provider.get_meter("semconv-check")
    try:
        return create(meter)
    except TypeError:  # observable helpers take their callbacks too
        return create(meter, [])
    finally:
        provider.shutdown()


def test_every_name_outside_our_namespace_is_a_semantic_convention() -> None:
    foreign = [i.name for i in default_catalog().instruments if not i.name.startswith(OURS)]
    assert foreign
    assert [name for name in foreign if name not in METRICS] == []


def test_the_guide_table_reads_stable_conventions() -> None:
    """DESIGN: HTTP and database names follow the *stable* conventions; the table's alerts
    read only instruments the conventions have declared stable (or our own)."""
    read = {i.name for entry in default_catalog() for i in entry.instruments}
    http_and_db = {name for name in read if name.startswith(("http.", "db."))}
    assert http_and_db == {"http.server.request.duration", "db.client.operation.duration"}
    assert http_and_db <= set(STABLE_METRICS)


@pytest.mark.parametrize("instrument", SEMCONV_INSTRUMENTS, ids=lambda i: i.name)
def test_kind_unit_and_description_are_the_conventions(instrument: Instrument) -> None:
    reference = _created(instrument.name)
    assert (instrument.kind, instrument.unit, instrument.description) == (
        _kind(reference),
        reference.unit,
        reference.description,
    )


@pytest.mark.parametrize("instrument", SEMCONV_INSTRUMENTS, ids=lambda i: i.name)
def test_attributes_are_semantic_convention_attributes(instrument: Instrument) -> None:
    assert [a for a in instrument.attributes if a not in ATTRIBUTES] == []
