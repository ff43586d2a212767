"""``performance.observability``: our own section, what OpenTelemetry needs beyond the guide."""

from pathlib import Path
from typing import Literal

from pydantic import Field

from plexichat.config.base import Section
from plexichat.config.scalars import OptionalHttpUrl, PositiveInt, Seconds, UrlPath

HistogramAggregation = Literal["explicit_bucket_histogram", "base2_exponential_bucket_histogram"]
"""What OTLP sends for a histogram, as ``OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION``
names it: its classic buckets, or its native ones (the catalog's ``native:`` histograms)."""

Sampler = Literal[
    "parentbased_traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "traceidratio",
    "always_on",
    "always_off",
]


class OtlpConfig(Section):
    """Where and how metrics and traces are pushed over OTLP."""

    endpoint: OptionalHttpUrl = None  # None or "": no OTLP export at all
    protocol: Literal["http/protobuf", "grpc"] = "http/protobuf"
    headers: dict[str, str] = Field(default_factory=dict, repr=False)  # may hold credentials
    timeout_seconds: Seconds = 2.0
    traces_enabled: bool = True
    metrics_enabled: bool = True
    # base2_exponential_bucket_histogram: the histograms with native buckets in the catalog
    # (the durations) go as exponential histograms; the others keep their explicit buckets.
    histogram_aggregation: HistogramAggregation = "explicit_bucket_histogram"


class TracingConfig(Section):
    """Whether spans are recorded, and which share of them."""

    enabled: bool = True
    sampler: Sampler = "parentbased_traceidratio"
    sampler_arg: float = Field(default=0.1, ge=0.0, le=1.0)
    exemplars: bool = True  # sampled requests leave their trace on latency histogram buckets


class ObservabilityConfig(Section):
    """Identity of the service in telemetry, and what it exports."""

    service_name: str = Field(default="plexichat", min_length=1)
    service_version: str | None = None  # None: the installed package's version
    environment: str = Field(default="local", min_length=1)
    # Requests to these paths are neither measured nor traced.
    excluded_paths: list[UrlPath] = Field(
        default_factory=lambda: ["/metrics", "/healthz", "/readyz"]
    )
    series_limit: PositiveInt = 2000  # label combinations per metric before they fold into one
    # Multi-worker mode: the directory (tmpfs) the workers of one instance share their
    # metrics through; None: one process.
    multiprocess_dir: Path | None = None
    resource_attributes: dict[str, str] = Field(default_factory=dict)
    otlp: OtlpConfig = Field(default_factory=OtlpConfig)
    tracing: TracingConfig = Field(default_factory=TracingConfig)
