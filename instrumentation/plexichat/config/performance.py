"""``performance``: the guide's configuration tree (``config/performance.yaml``).

Field names are the guide's. Defaults are the guide's ``config/performance.yaml`` values except
where noted; ``defaults/performance.yaml`` repeats every one of them with a comment.
"""

from typing import Literal, Self

from pydantic import Field, model_validator

from plexichat.config.base import Section
from plexichat.config.observability import ObservabilityConfig
from plexichat.config.scalars import (
    HttpUrl,
    LogLevel,
    NonNegativeInt,
    Port,
    PositiveInt,
    PromDuration,
    Rate,
    UrlPath,
)
from plexichat.config.sizes import ByteSize, GiB, KiB, MiB


class CompressionConfig(Section):
    """``latency_optimizer.compression``: gzip of responses of at least ``min_size`` bytes at
    zlib ``level`` 1-9, by the latency optimizer's middleware."""

    enabled: bool = True
    min_size: ByteSize = 1 * KiB
    level: int = Field(default=6, ge=1, le=9)


class QueryOptimizationConfig(Section):
    """``latency_optimizer.query_optimization``: ``batch_size`` writes per transaction of the
    service's writer, ``prepared_statement_cache_size`` statements cached per database
    connection. ``connection_pool_size`` is accepted, not yet in effect
    (``database.connection_pool`` sizes the pool)."""

    batch_size: PositiveInt = 100
    connection_pool_size: PositiveInt = 20
    prepared_statement_cache_size: NonNegativeInt = 1000


class PreloadingConfig(Section):
    """``latency_optimizer.preloading``: keys read ``preload_threshold`` times become hot and a
    starting cache warms L1 with them, up to ``cache_size`` bytes."""

    enabled: bool = True
    cache_size: ByteSize = 500 * MiB
    preload_threshold: PositiveInt = 10


class LatencyOptimizerConfig(Section):
    """``latency_optimizer``: the latency optimizer's switch and parts; ``target_latency_ms`` and
    ``max_latency_ms`` (target <= max) are also the response time's target and alert threshold.
    ``optimization_level`` is accepted, not yet in effect."""

    enabled: bool = True
    target_latency_ms: PositiveInt = 100
    max_latency_ms: PositiveInt = 1000
    optimization_level: Literal["conservative", "moderate", "aggressive"] = "aggressive"
    compression: CompressionConfig = Field(default_factory=CompressionConfig)
    query_optimization: QueryOptimizationConfig = Field(default_factory=QueryOptimizationConfig)
    preloading: PreloadingConfig = Field(default_factory=PreloadingConfig)

    @model_validator(mode="after")
    def _target_within_max(self) -> Self:
        if self.target_latency_ms > self.max_latency_ms:
            raise ValueError(
                f"target_latency_ms ({self.target_latency_ms}) is above max_latency_ms "
                f"({self.max_latency_ms}) (expected target <= max)"
            )
        return self


class MemoryCacheConfig(Section):
    """``caching.memory_cache``: L1, at most ``max_size`` bytes of keys and serialised values,
    entries living ``ttl`` seconds unless ``set`` says otherwise."""

    enabled: bool = True
    max_size: ByteSize = 256 * MiB
    ttl: PositiveInt = 3600
    eviction_policy: Literal["lru", "lfu", "fifo"] = "lru"


class CircuitBreakerConfig(Section):
    """``caching.redis_cache.circuit_breaker`` (ours): ``failure_threshold`` consecutive failed
    commands open it; then one probe every ``reset_timeout_seconds``."""

    failure_threshold: PositiveInt = 3
    reset_timeout_seconds: float = Field(default=2.0, gt=0)


class RedisCacheConfig(Section):
    """``caching.redis_cache``: L2, shared by the replicas (also the home of shared rate-limit
    buckets and L1 invalidation); each command gives up after ``socket_timeout_seconds``. Off by
    default."""

    enabled: bool = False  # the guide's example enables it; so does the production profile
    host: str = "localhost"
    port: Port = 6379
    db: NonNegativeInt = 0
    max_connections: PositiveInt = 50
    default_ttl: PositiveInt = 7200
    key_prefix: str = "plexichat:"
    password: str | None = Field(default=None, repr=False)
    socket_timeout_seconds: float = Field(default=0.25, gt=0)
    circuit_breaker: CircuitBreakerConfig = Field(default_factory=CircuitBreakerConfig)


class QueryCacheConfig(Section):
    """``caching.query_cache``: L3, at most ``max_entries`` statement results for ``ttl``
    seconds, never of ``exclude_tables`` (off as well when
    ``database.query_optimization.enable_query_cache`` is false)."""

    enabled: bool = True
    max_entries: PositiveInt = 10000
    ttl: PositiveInt = 1800
    cache_select_only: bool = True
    exclude_tables: list[str] = Field(default_factory=lambda: ["audit_log", "session_data"])


class CachingConfig(Section):
    """``caching``: the cache manager's three tiers."""

    memory_cache: MemoryCacheConfig = Field(default_factory=MemoryCacheConfig)
    redis_cache: RedisCacheConfig = Field(default_factory=RedisCacheConfig)
    query_cache: QueryCacheConfig = Field(default_factory=QueryCacheConfig)


class AsyncSettingsConfig(Section):
    """``async_settings``: ``max_workers`` blocks in ``optimize_context()`` at once,
    ``thread_pool_size`` threads for blocking calls, the event loop implementation."""

    max_workers: PositiveInt = 50
    thread_pool_size: PositiveInt = 20
    # The guide's example says uvloop; the bare package does not depend on it (production does).
    event_loop_policy: Literal["asyncio", "uvloop"] = "asyncio"


class ResourceLimitsConfig(Section):
    """``resource_limits``: the memory that Memory Usage is a share of, the open-file limit set
    at start, the connections served at once. ``max_cpu_usage`` is accepted, not yet in
    effect."""

    max_memory_usage: ByteSize = 1 * GiB
    max_cpu_usage: int = Field(default=80, ge=1, le=100)  # percent
    max_open_files: PositiveInt = 1024
    max_connections: PositiveInt = 1000


class ConnectionPoolConfig(Section):
    """``database.connection_pool``: the SQLAlchemy pool (PostgreSQL; SQLite ignores it),
    ``min_size`` <= ``max_size``; ``pool_timeout`` in seconds."""

    min_size: NonNegativeInt = 5
    max_size: PositiveInt = 20
    max_overflow: NonNegativeInt = 30
    pool_timeout: PositiveInt = 30  # seconds

    @model_validator(mode="after")
    def _min_within_max(self) -> Self:
        if self.min_size > self.max_size:
            raise ValueError(
                f"min_size ({self.min_size}) is above max_size ({self.max_size}) "
                "(expected min_size <= max_size)"
            )
        return self


class DatabaseQueryOptimizationConfig(Section):
    """``database.query_optimization``: the query cache's master switch and the slow-query log
    (``slow_query_threshold`` in milliseconds, with EXPLAIN when ``explain_slow_queries``)."""

    enable_query_cache: bool = True
    slow_query_threshold: PositiveInt = 1000  # milliseconds
    explain_slow_queries: bool = True


class DatabaseConfig(Section):
    """``database``: the service's connection pool and slow-query log."""

    connection_pool: ConnectionPoolConfig = Field(default_factory=ConnectionPoolConfig)
    query_optimization: DatabaseQueryOptimizationConfig = Field(
        default_factory=DatabaseQueryOptimizationConfig
    )


class RateLimitingConfig(Section):
    """``api.rate_limiting``: token buckets per client (``N/second``, ``N/minute`` or
    ``N/hour``), the client named by ``client_header`` only when sent by one of
    ``trusted_proxies``."""

    enabled: bool = True
    default_rate: Rate = "100/minute"
    burst_rate: Rate = "200/minute"
    # Ours: whose address a request counts against. The peer address, unless the peer is one
    # of trusted_proxies (addresses or CIDR networks) and sent client_header.
    client_header: str | None = None
    trusted_proxies: list[str] = Field(default_factory=list)


class ApiConfig(Section):
    """``api``: rate limits, ``request_timeout`` (seconds, then 504) and ``max_request_size``
    (bytes, then 413), applied by the latency optimizer."""

    rate_limiting: RateLimitingConfig = Field(default_factory=RateLimitingConfig)
    request_timeout: PositiveInt = 30  # seconds
    max_request_size: ByteSize = 10 * MiB


class BackgroundTasksConfig(Section):
    """``background_tasks``: the task runner's concurrency, per-attempt timeout (s), retries and
    delay between them (s); see :mod:`plexichat.core.performance.task_runner`."""

    max_concurrent_tasks: PositiveInt = 10
    task_timeout: PositiveInt = 300  # seconds
    retry_attempts: NonNegativeInt = 3
    retry_delay: NonNegativeInt = 5  # seconds


class PrometheusExporterConfig(Section):
    """``metrics.exporters.prometheus``: serve ``path`` on the service's port, and on ``port``
    too when one is set."""

    enabled: bool = True
    # None: /metrics is served by the service on its own port. A port adds a second listener.
    port: Port | None = None
    path: UrlPath = "/metrics"


class GrafanaExporterConfig(Section):
    """``metrics.exporters.grafana``: accepted, not yet in effect."""

    enabled: bool = True
    dashboard_url: HttpUrl = "http://grafana:3000"


class CustomDashboardConfig(Section):
    """``metrics.exporters.custom_dashboard``: accepted, not yet in effect."""

    enabled: bool = True
    update_interval: PositiveInt = 60  # seconds


class ExportersConfig(Section):
    """``metrics.exporters``: only ``prometheus`` is in effect."""

    prometheus: PrometheusExporterConfig = Field(default_factory=PrometheusExporterConfig)
    grafana: GrafanaExporterConfig = Field(default_factory=GrafanaExporterConfig)
    custom_dashboard: CustomDashboardConfig = Field(default_factory=CustomDashboardConfig)


class MetricsConfig(Section):
    """``metrics``: the exporters. ``collection_interval`` and ``retention_period`` are
    accepted, not yet in effect (``metrics_collection_interval`` is the interval in effect);
    ``aggregation_intervals`` is a generation-time key (``plexichat.config.inert.GENERATION_KEYS``):
    ``plexichat-obs generate --profile`` reads a profile's for its recording rules."""

    collection_interval: PositiveInt = 30  # seconds
    retention_period: PromDuration = "30d"
    aggregation_intervals: list[PromDuration] = Field(
        default_factory=lambda: ["1m", "5m", "1h", "1d"]
    )
    exporters: ExportersConfig = Field(default_factory=ExportersConfig)


class PerformanceConfig(Section):
    """The ``performance:`` tree of the guide, plus our ``observability`` section."""

    monitoring_enabled: bool = True
    metrics_collection_interval: PositiveInt = 30  # seconds
    performance_logging_level: LogLevel = "INFO"
    performance_log_file: str = "logs/performance.log"  # ours; "-" is stdout
    latency_optimizer: LatencyOptimizerConfig = Field(default_factory=LatencyOptimizerConfig)
    caching: CachingConfig = Field(default_factory=CachingConfig)
    async_settings: AsyncSettingsConfig = Field(default_factory=AsyncSettingsConfig)
    resource_limits: ResourceLimitsConfig = Field(default_factory=ResourceLimitsConfig)
    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    background_tasks: BackgroundTasksConfig = Field(default_factory=BackgroundTasksConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    observability: ObservabilityConfig = Field(default_factory=ObservabilityConfig)
