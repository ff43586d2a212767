"""Tracing setup: the lean tracer and its OTLP span exporter, from configuration.

Tracing runs only when ``performance.observability.tracing.enabled`` is true *and* an OTLP
endpoint is configured with ``traces_enabled``: spans that go nowhere are pure cost. The
default sampler is the OpenTelemetry default for a service, parent-based with a 10 % trace-id
ratio for root spans (``parentbased_traceidratio`` with ``sampler_arg: 0.1``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry.sdk.resources import Resource

from plexichat.observability.tracing.encoding import SpanEncoder
from plexichat.observability.tracing.export import GrpcTransport, HttpTransport, SpanExporter
from plexichat.observability.tracing.tracer import LeanTracer

if TYPE_CHECKING:
    from plexichat.config import Settings


def lean_tracer(
    settings: Settings, resource: Resource, scope_name: str, scope_version: str
) -> LeanTracer | None:
    """A tracer exporting over OTLP, or ``None`` when tracing is off."""
    obs = settings.performance.observability
    otlp = obs.otlp
    if not (obs.tracing.enabled and otlp.endpoint and otlp.traces_enabled):
        return None
    transport_cls = GrpcTransport if otlp.protocol == "grpc" else HttpTransport
    transport = transport_cls(otlp.endpoint, dict(otlp.headers), otlp.timeout_seconds)
    attributes = {
        k: v for k, v in resource.attributes.items() if isinstance(v, str | bool | int | float)
    }
    encoder = SpanEncoder(attributes, scope_name, scope_version)
    return LeanTracer(
        obs.tracing.sampler, obs.tracing.sampler_arg, SpanExporter(encoder, transport)
    )
