"""Series the dashboards read beyond the catalog's eight entries, each with what emits it.

The catalog defines the table's metrics; these are the instrumentation's other series (HTTP
in-flight requests, the overflow counter, ``target_info``) and the business and cache series of
the guide. A test checks that dashboards and rules name only catalog series and these.
"""

from types import MappingProxyType

SUPPORTING_SERIES = MappingProxyType(
    {
        "target_info": "OTel resource of each instance (the job and instance variables)",
        "http_server_active_requests": "http.server.active_requests",
        "plexichat_metric_overflow_total": "plexichat.metric.overflow (series budget exceeded)",
        "plexichat_user_registrations_total": "performance logger: user_registrations",
        "plexichat_messages_sent_total": "performance logger: messages_sent",
        "plexichat_api_calls_total": "performance logger: api_calls",
        "plexichat_active_users": "performance logger: active_users",
        "plexichat_database_connections": "performance logger: database_connections (the guide)",
        "plexichat_cache_evictions_total": "plexichat.cache.evictions{cache.tier}",
        "plexichat_cache_memory_usage_bytes": "plexichat.cache.memory.usage{cache.tier}",
    }
)
"""Prometheus name (without _bucket/_sum/_count) -> its instrument or source."""

PROMETHEUS_SERIES = frozenset({"up"})
"""Series Prometheus itself writes for every target."""
