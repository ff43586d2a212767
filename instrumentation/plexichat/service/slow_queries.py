"""``SlowQueries``: the ``db_latency_ms`` fault, a wait before every database statement.

A ``before_cursor_execute`` listener on the engine, added after the instrumentation's
``StatementTimer`` (``observability.db_client``), so the wait falls inside the timed interval and
counts in ``db.client.operation.duration`` as a slow database would. It is not one of the
timer's observers on purpose: those run before the clock starts. The engine is
SQLAlchemy's asyncio one: statements run inside its greenlet bridge, so the listener awaits
``asyncio.sleep`` through ``await_only`` and the event loop keeps serving other requests.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

from plexichat.service.fault_switch import FaultSwitch


class SlowQueries:
    """The ``db_latency_ms`` fault on one engine, listening from construction until
    :meth:`remove`."""

    def __init__(self, engine: AsyncEngine, switch: FaultSwitch) -> None:
        self.sync_engine = engine.sync_engine
        self.switch = switch
        event.listen(self.sync_engine, "before_cursor_execute", self._before)

    def remove(self) -> None:
        """Stop delaying the engine's statements."""
        event.remove(self.sync_engine, "before_cursor_execute", self._before)

    def _before(self, *args: Any) -> None:
        faults = self.switch.faults()
        if faults.enabled and faults.db_latency_ms:
            await_only(asyncio.sleep(faults.db_latency_ms / 1000))
