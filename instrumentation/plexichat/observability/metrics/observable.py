"""SDK observable instruments from their catalog entries: values a callback reports when a
reader collects (process CPU and memory), created on an OpenTelemetry ``Meter``.

An observable instrument produces the same data as its synchronous twin, so the catalog's
``kind`` picks the constructor: ``gauge`` -> ``create_observable_gauge``, ``updowncounter`` ->
``create_observable_up_down_counter``, ``counter`` -> ``create_observable_counter``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from opentelemetry.metrics import CallbackOptions, Meter, Observation

from plexichat.catalog import Catalog, default_catalog

Callback = Callable[[CallbackOptions], Iterable[Observation]]


def observe(meter: Meter, name: str, callback: Callback, catalog: Catalog | None = None) -> None:
    """Create the catalog's instrument ``name`` on ``meter``, reported by ``callback``."""
    spec = (catalog if catalog is not None else default_catalog()).instrument(name)
    creators = {
        "gauge": meter.create_observable_gauge,
        "updowncounter": meter.create_observable_up_down_counter,
        "counter": meter.create_observable_counter,
    }
    create = creators.get(spec.kind)
    if create is None:
        raise ValueError(f"{name!r} is a {spec.kind}: only counters and gauges are observable")
    create(spec.name, [callback], spec.unit, spec.description)
