"""What the service's lifespan hands to the routes, stored on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass

from plexichat.service.activity import ActiveUsers, SharedActiveUsers
from plexichat.service.caching import ServiceCache
from plexichat.service.db_engine import Database
from plexichat.service.metrics import MetricsRecorder
from plexichat.service.writer import Writer


@dataclass(frozen=True)
class ServiceState:
    """The service's parts the routes use, built by the app's lifespan: database, metrics, active
    users, cache and writer."""

    database: Database
    metrics: MetricsRecorder
    active_users: ActiveUsers | SharedActiveUsers
    cache: ServiceCache
    writer: Writer


STATE_KEY = "plexichat_service"
"""The ``app.state`` attribute the ``ServiceState`` is stored under while the app runs."""
