"""The tracer provider: configured sampler, OTLP span export on a background thread.

Tracing runs only when ``performance.observability.tracing.enabled`` is true *and* an OTLP
endpoint is configured with ``traces_enabled``: spans that go nowhere are pure cost. The
default sampler is the OpenTelemetry default for a service, parent-based with a 10 % trace-id
ratio for root spans (``parentbased_traceidratio`` with ``sampler_arg: 0.1``); W3C trace
context in ``traceparent`` is honoured.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)

from plexichat.observability.exporters import span_exporter

if TYPE_CHECKING:
    from plexichat.config import Settings


def sampler(name: str, ratio: float) -> Sampler:
    """The sampler named as in ``OTEL_TRACES_SAMPLER``."""
    samplers: dict[str, Sampler] = {
        "always_on": ALWAYS_ON,
        "always_off": ALWAYS_OFF,
        "traceidratio": TraceIdRatioBased(ratio),
        "parentbased_always_on": ParentBased(ALWAYS_ON),
        "parentbased_always_off": ParentBased(ALWAYS_OFF),
        "parentbased_traceidratio": ParentBased(TraceIdRatioBased(ratio)),
    }
    try:
        return samplers[name]
    except KeyError:
        raise ValueError(f"unknown sampler {name!r}: expected one of {sorted(samplers)}") from None


def tracer_provider(settings: Settings, resource: Resource) -> TracerProvider | None:
    """A provider exporting over OTLP, or ``None`` when tracing is off."""
    obs = settings.performance.observability
    if not (obs.tracing.enabled and obs.otlp.endpoint and obs.otlp.traces_enabled):
        return None
    provider = TracerProvider(
        resource=resource, sampler=sampler(obs.tracing.sampler, obs.tracing.sampler_arg)
    )
    provider.add_span_processor(
        BatchSpanProcessor(
            span_exporter(settings),
            export_timeout_millis=int(obs.otlp.timeout_seconds * 1000),
        )
    )
    return provider
