"""The typed form of one catalog entry (pydantic v2, unknown keys rejected)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    field_validator,
)

from plexichat.catalog import prometheus
from plexichat.catalog import validation as v
from plexichat.catalog.errors import CatalogError

Op = Literal["<", ">"]
Kind = Literal["histogram", "counter", "gauge", "updowncounter"]
Severity = Literal["warning", "critical"]
Dashboard = Literal["overview", "http", "database", "cache", "system", "business", "slo"]
"""The generated dashboards (``dashboards/<name>.json``)."""
Merge = Literal["sum", "max", "latest"]
"""How the workers' values of a gauge or up-down counter combine in multi-worker mode."""

EntryId = Annotated[str, AfterValidator(lambda s: v.check_pattern(s, v.ENTRY_ID, "snake_case"))]
OtelName = Annotated[
    str, AfterValidator(lambda s: v.check_pattern(s, v.OTEL_NAME, "a lowercase dotted OTel name"))
]
ConfigKey = Annotated[
    str, AfterValidator(lambda s: v.check_pattern(s, v.CONFIG_KEY, "a dotted config key"))
]
Duration = Annotated[str, AfterValidator(v.check_duration)]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Native(_Model):
    """Native (base-2 exponential) buckets a histogram keeps beside its classic ones, as
    OpenTelemetry's exponential histogram and Prometheus' native histogram define them."""

    schema_: StrictInt = Field(alias="schema")
    """YAML key ``schema``. Resolution: bucket boundaries are powers of ``2 ** 2 ** -schema``
    (3: ~9 % apart); -4..8, Prometheus' range. Lowered at run time when the values span more
    buckets than ``max_buckets``."""
    max_buckets: StrictInt
    """Buckets a series keeps at most (its fixed window of cells)."""
    zero_threshold: float = 0.0
    """Values up to this count in the zero bucket."""

    @field_validator("schema_")
    @classmethod
    def _schema(cls, value: int) -> int:
        if not -4 <= value <= 8:
            raise ValueError(f"{value} is not a schema of -4..8 (Prometheus native histograms)")
        return value

    @field_validator("max_buckets")
    @classmethod
    def _max_buckets(cls, value: int) -> int:
        if value < 1:
            raise ValueError(f"{value}: a series keeps at least 1 bucket")
        return value

    @field_validator("zero_threshold")
    @classmethod
    def _zero_threshold(cls, value: float) -> float:
        if not value >= 0:
            raise ValueError(f"{value}: the zero threshold is 0 or more")
        return value


class Instrument(_Model):
    """One OTel instrument we emit, exactly as the instrumentation creates it.

    ``kind`` is the data the instrument produces; an observable instrument (one whose value a
    callback reports at collection) has the kind of its synchronous twin, as in the semantic
    conventions (``process.memory.usage`` is an up-down counter either way).
    """

    name: OtelName
    kind: Kind
    unit: NonEmpty
    """UCUM: ``s``, ``By``, ``1``, or an annotation such as ``{request}``."""
    description: NonEmpty
    """The Prometheus HELP text and the OTLP description, word for word."""
    attributes: tuple[OtelName, ...] = ()
    """Every attribute a data point may carry (some may be absent on a given point)."""
    buckets: tuple[float, ...] = Field(default=(), validate_default=True)
    """Explicit bucket boundaries (histograms only); see ``Catalog.bucket_boundaries``."""
    dashboard: Dashboard
    """The dashboard that shows this instrument (besides the Overview's table)."""
    merge: Merge | None = Field(default=None, validate_default=True)
    """Gauges and up-down counters (required there): how the values of several workers of one
    instance combine — ``sum`` (each worker has its own: connections, active requests),
    ``max`` or ``latest`` (the most recently set). Only live workers count. Counters and
    histograms are summed over all workers, the dead included, and take no ``merge``."""
    exemplars: bool = Field(default=False, validate_default=True)
    """Histograms: sampled requests leave their trace on the bucket they fell in."""
    native: Native | None = Field(default=None, validate_default=True)
    """Histograms: native buckets kept beside the classic ones (OTLP exports them as an
    exponential histogram when configured; ``/metrics`` text shows the classic ones)."""

    @property
    def prometheus_name(self) -> str:
        """The metric family name the OpenTelemetry Prometheus reader exposes, without a
        counter's ``_total`` (``http_server_request_duration_seconds``)."""
        return prometheus.family_name(self.name, self.unit)

    @property
    def prometheus_type(self) -> str:
        """The exposition ``# TYPE``: a cumulative up-down counter is exposed as a gauge."""
        return {"updowncounter": "gauge"}.get(self.kind, self.kind)

    @property
    def prometheus_series(self) -> str:
        """The name PromQL reads: a counter's ``_total`` sample, else the family name (a
        histogram's ``_bucket``/``_sum``/``_count`` follow from it)."""
        return f"{self.prometheus_name}_total" if self.kind == "counter" else self.prometheus_name

    @property
    def prometheus_labels(self) -> tuple[str, ...]:
        """The attributes as Prometheus label names (``http.route`` -> ``http_route``)."""
        return tuple(prometheus.label_name(a) for a in self.attributes)

    @field_validator("merge")
    @classmethod
    def _merge(cls, value: str | None, info: ValidationInfo) -> str | None:
        live = info.data.get("kind") in ("gauge", "updowncounter")
        if live and value is None:
            raise ValueError("a gauge or up-down counter needs merge: sum, max or latest")
        if not live and value is not None:
            raise ValueError("only gauges and up-down counters take merge (the rest are summed)")
        if info.data.get("kind") == "updowncounter" and value != "sum":
            raise ValueError("an up-down counter's workers are summed: merge: sum")
        return value

    @field_validator("exemplars")
    @classmethod
    def _exemplars(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("kind") != "histogram":
            raise ValueError("only a histogram keeps exemplars")
        return value

    @field_validator("native")
    @classmethod
    def _native(cls, value: Native | None, info: ValidationInfo) -> Native | None:
        if value is not None and info.data.get("kind") != "histogram":
            raise ValueError("only a histogram keeps native buckets")
        return value

    @field_validator("buckets")
    @classmethod
    def _buckets(cls, value: tuple[float, ...], info: ValidationInfo) -> tuple[float, ...]:
        if info.data.get("kind") == "histogram":
            v.check_strictly_increasing(value)
        elif value:
            raise ValueError("only a histogram has bucket boundaries")
        return value


class Target(_Model):
    """Where the value should be: ``value op target.value`` is healthy."""

    op: Op
    value: float


class Alert(_Model):
    """The alert condition ``value op alert.value``, held for ``for_`` (YAML key ``for``)."""

    op: Op
    value: float
    for_: Duration = Field(alias="for")
    severity: Severity


class TargetOverride(_Model):
    """A profile's change to the target: the fields given replace the guide's."""

    op: Op | None = None
    value: float | None = None


class AlertOverride(_Model):
    """A profile's change to the alert: the fields given (``op``, ``value``, ``for``,
    ``severity``) replace the guide's."""

    op: Op | None = None
    value: float | None = None
    for_: Duration | None = Field(default=None, alias="for")
    severity: Severity | None = None


class ProfileOverride(_Model):
    """A profile's changes; ``alert: null`` switches the alert off in that profile."""

    target: TargetOverride | None = None
    alert: AlertOverride | None = None


class Profiles(_Model):
    """The entry's overrides, one field per profile (the profile list itself, ``PROFILES``); a
    ``follows`` key set in that profile's configuration wins over them."""

    development: ProfileOverride | None = None
    production: ProfileOverride | None = None


JOB = "plexichat"
"""The Prometheus job the bundles and ``up`` scrape the service as: the default ``job`` matcher
of every generated rule, panel and ``status`` query (``--job`` changes it)."""
PROFILES: tuple[str, ...] = tuple(Profiles.model_fields)
"""The profiles (``development``, ``production``), each with its packaged
``config/<profile>/performance.yaml``; ``None`` stands for the guide's table itself."""


class Follow(_Model):
    """A performance.yaml key (below ``performance:``) that overrides a threshold.

    The threshold becomes ``config value * scale`` (``scale: 0.001`` turns ms into s).
    """

    key: ConfigKey
    scale: float = 1.0


class Follows(_Model):
    """The performance.yaml keys the entry's target and alert thresholds follow, so a configured
    value moves the alert with it."""

    target: Follow | None = None
    alert: Follow | None = None


class Recording(_Model):
    """The entry's value recorded per job at each aggregation interval, as Prometheus'
    ``level:metric:operation`` convention names it: ``job:<metric>:<operation><window>``."""

    metric: Annotated[
        str, AfterValidator(lambda s: v.check_pattern(s, v.SNAKE_WORD, "a metric name"))
    ]
    operation: EntryId

    def name(self, window: str) -> str:
        """The rule's name for aggregation ``window`` (``5m`` -> ``job:<metric>:<operation>5m``)."""
        return f"job:{self.metric}:{self.operation}{window}"


class Breakdown(_Model):
    """The same value split by labels, for dashboards (same template scheme as ``promql``)."""

    by: tuple[NonEmpty, ...] = Field(min_length=1)
    promql: NonEmpty


def _series(info: ValidationInfo) -> tuple[str, ...]:
    """The series of the instruments validated so far (``instrument`` and
    ``extra_instruments`` precede the queries)."""
    primary = info.data.get("instrument")
    extra = info.data.get("extra_instruments", ())
    found = [i for i in (primary, *extra) if isinstance(i, Instrument)]
    return tuple(i.prometheus_series for i in found)


@dataclass(frozen=True)
class Thresholds:
    """An entry's thresholds resolved for one profile; ``alert`` is ``None`` when switched off."""

    target: Target
    alert: Alert | None


class MetricEntry(_Model):
    """One row of the guide's table, with what a machine needs to measure and alert on it."""

    id: EntryId
    guide_name: NonEmpty
    description: NonEmpty
    statistic: NonEmpty
    """Which statistic the value is, as ``status`` and the README table label it (``mean``,
    ``p95 TTFB``): the guide's names do not say."""
    instrument: Instrument
    """The instrument the value is read from (named in ``metrics.yaml``, defined under
    ``instruments:``)."""
    extra_instruments: tuple[Instrument, ...] = ()
    """Further instruments the entry reads (a denominator, per-tier detail)."""
    windowed: bool
    window: Duration | None = Field(default=None, validate_default=True)
    """The default window of ``query()`` (recording and alert rules); windowed entries only."""
    promql: NonEmpty
    quantile: float | None = Field(default=None, validate_default=True)
    """The quantile the value is (``0.95``), where ``promql`` takes it of the ``instrument``'s
    histogram with ``histogram_quantile``: ``status`` then says which histogram answered, the
    native one or the classic buckets (a classic quantile is only as fine as its buckets)."""
    recording: Recording | None = Field(default=None, validate_default=True)
    """Record the value per job at every aggregation interval (windowed entries only)."""
    breakdown: Breakdown | None = None
    value_unit: NonEmpty
    """UCUM unit of the PromQL value (``s``, ``1``, ``{request}/s``); thresholds are in it."""
    display_unit: NonEmpty
    scale: float = 1.0
    """Multiply the PromQL value by this for ``display_unit`` (seconds to ms: 1000)."""
    target: Target
    alert: Alert
    runbook: NonEmpty
    profiles: Profiles = Profiles()
    follows: Follows = Follows()

    @field_validator("window")
    @classmethod
    def _window(cls, value: str | None, info: ValidationInfo) -> str | None:
        windowed = info.data.get("windowed")
        if windowed and value is None:
            raise ValueError("a windowed entry needs a default window such as '5m'")
        if windowed is False and value is not None:
            raise ValueError("only a windowed entry has a window")
        return value

    @field_validator("promql")
    @classmethod
    def _promql(cls, value: str, info: ValidationInfo) -> str:
        series = _series(info)
        v.check_template(value, series, windowed=bool(info.data.get("windowed")))
        if not v.series_read(value, series):
            raise ValueError(f"the query reads none of the series {list(series)}")
        return value

    @field_validator("quantile")
    @classmethod
    def _quantile(cls, value: float | None, info: ValidationInfo) -> float | None:
        instrument, query = info.data.get("instrument"), info.data.get("promql")
        if value is None or not isinstance(instrument, Instrument) or query is None:
            return value  # an instrument or query refused already says so
        if instrument.kind != "histogram":
            raise ValueError(f"only a histogram has quantiles, and {instrument.name} is not one")
        return v.check_quantile(value, query)

    @field_validator("recording")
    @classmethod
    def _recording(cls, value: Recording | None, info: ValidationInfo) -> Recording | None:
        if value is not None and info.data.get("windowed") is False:
            raise ValueError("only a windowed entry is recorded (at each aggregation interval)")
        return value

    @field_validator("breakdown")
    @classmethod
    def _breakdown(cls, value: Breakdown | None, info: ValidationInfo) -> Breakdown | None:
        series = _series(info)
        if value is not None:
            v.check_template(value.promql, series, windowed=bool(info.data.get("windowed")))
        return value

    @property
    def instruments(self) -> tuple[Instrument, ...]:
        """The primary instrument, then the extra ones."""
        return (self.instrument, *self.extra_instruments)

    @property
    def series(self) -> tuple[str, ...]:
        """The Prometheus series of the entry's instruments, as its PromQL reads them."""
        return tuple(i.prometheus_series for i in self.instruments)

    def query(self, window: str | None = None, selector: str = "") -> str:
        """The PromQL of the table's value, e.g. ``query("5m", 'job="plexichat"')``.

        ``window`` defaults to the entry's ``window``; a Grafana variable such as
        ``$__rate_interval`` is accepted. ``selector`` is zero or more label matchers,
        comma-separated, without braces.
        """
        return self._render(self.promql, window, selector)

    def recorded(self, window: str) -> str:
        """The recording rule's series at ``window``: ``job:http_server_requests:rate5m``."""
        if self.recording is None:
            raise CatalogError(f"entry {self.id!r} has no recording")
        return self.recording.name(window)

    def breakdown_query(self, window: str | None = None, selector: str = "") -> str | None:
        """The breakdown's PromQL rendered like ``query()``, or ``None`` if there is none."""
        if self.breakdown is None:
            return None
        return self._render(self.breakdown.promql, window, selector)

    def _render(self, template: str, window: str | None, selector: str) -> str:
        if "{" in selector or "}" in selector:
            raise CatalogError(
                f"entry {self.id!r}: selector {selector!r} must be label matchers without braces"
            )
        text = v.fill_selector(template, selector.strip())
        if self.windowed:
            chosen = window if window is not None else self.window
            try:
                v.check_window(chosen or "")
            except ValueError as exc:
                raise CatalogError(f"entry {self.id!r}: window: {exc}") from None
            text = text.replace(v.WINDOW, chosen or "")
        return text

    def thresholds(
        self, profile: str | None = None, settings: Mapping[str, float] | None = None
    ) -> Thresholds:
        """Target and alert for ``profile`` (``None``: the guide's table).

        ``settings`` maps performance.yaml keys named in ``follows`` to that profile's
        configured values (``{"latency_optimizer.max_latency_ms": 500}``); a followed
        key given there wins over the catalog's own profile value. A switched-off alert
        stays off.
        """
        target: Target = self.target
        alert: Alert | None = self.alert
        override = self._override(profile)
        if override is not None:
            if override.target is not None:
                target = target.model_copy(update=override.target.model_dump(exclude_none=True))
            if "alert" in override.model_fields_set and override.alert is None:
                alert = None
            elif override.alert is not None:
                changes = override.alert.model_dump(exclude_none=True)
                alert = self.alert.model_copy(update=changes)
        settings = settings or {}
        followed_target, followed_alert = self.follows.target, self.follows.alert
        if followed_target is not None and followed_target.key in settings:
            value = settings[followed_target.key] * followed_target.scale
            target = target.model_copy(update={"value": value})
        if alert is not None and followed_alert is not None and followed_alert.key in settings:
            value = settings[followed_alert.key] * followed_alert.scale
            alert = alert.model_copy(update={"value": value})
        return Thresholds(target=target, alert=alert)

    def _override(self, profile: str | None) -> ProfileOverride | None:
        if profile is None:
            return None
        if profile not in PROFILES:
            known = ", ".join(PROFILES)
            raise CatalogError(f"unknown profile {profile!r}; known profiles: {known}")
        override: ProfileOverride | None = getattr(self.profiles, profile)
        return override
