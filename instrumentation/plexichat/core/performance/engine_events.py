"""Listeners on SQLAlchemy engines' events, attached per engine and removed together.

The toolkit's engine hooks (:class:`~.cache.query.QueryCache`'s invalidation on writes,
:class:`~.db_monitoring.ConnectionGauge` on pool checkouts) listen to the synchronous engine
under an ``AsyncEngine``. Statement timing has one listener of its own,
:class:`~plexichat.observability.db_client.StatementTimer`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import event

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


class EngineListeners:
    """SQLAlchemy event listeners attached to engines together and removed together, so a hook never
    outlives its owner (it listens on the sync engine under an ``AsyncEngine``)."""

    def __init__(self, **listeners: Callable[..., Any]) -> None:
        """``event name=listener`` pairs, e.g. ``commit=self._on_commit``."""
        self._listeners = listeners
        self._engines: list[Any] = []

    def attach(self, engine: AsyncEngine) -> None:
        """Listen to ``engine`` (idempotent)."""
        sync = engine.sync_engine
        if sync in self._engines:
            return
        for name, listener in self._listeners.items():
            event.listen(sync, name, listener)
        self._engines.append(sync)

    def detach(self) -> None:
        """Stop listening to every engine attached so far."""
        for sync in self._engines:
            for name, listener in self._listeners.items():
                event.remove(sync, name, listener)
        self._engines.clear()
