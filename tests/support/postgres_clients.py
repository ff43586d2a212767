"""Real clients of a PostgreSQL server, driven from synchronous tests: idle connections held
open (to bring the server near its ``max_connections``) and a deadlock between two transactions.

asyncpg is the only driver the ``postgres`` extra installs; ``PostgresClients`` runs it on an
event loop of its own, one ``run_until_complete`` per action (an idle connection needs no
running loop). ``deadlock`` is a real one: two connections each lock one row of a table of
their own, then each asks for the other's row; PostgreSQL's deadlock detector (after the
server's ``deadlock_timeout``) aborts one (``ERROR: deadlock detected``), counted in
``pg_stat_database.deadlocks``, and the other goes on.
"""

from __future__ import annotations

import asyncio

import asyncpg

TABLE = "deadlock_rows"


class PostgresClients:
    """Connections to ``dsn`` (``postgresql://...``); ``close`` releases every one."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.loop = asyncio.new_event_loop()
        self.held: list[asyncpg.Connection] = []

    def _connect(self) -> asyncpg.Connection:
        return self.loop.run_until_complete(asyncpg.connect(self.dsn, timeout=30))

    def count(self, database: str | None = None) -> int:
        """Client connections the server has open (every database, or ``database``), as
        ``pg_stat_activity`` (and so postgres_exporter) counts them; this query's own too."""
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname IS NOT NULL"
        if database is not None:
            query += " AND datname = $1"
        args = () if database is None else (database,)
        connection = self._connect()
        try:
            return int(self.loop.run_until_complete(connection.fetchval(query, *args)))
        finally:
            self.loop.run_until_complete(connection.close())

    def hold(self, count: int) -> None:
        """Open ``count`` more connections and keep them, idle, until ``release``."""
        for _ in range(count):
            self.held.append(self._connect())

    def release(self) -> None:
        """Close every held connection."""
        while self.held:
            self.loop.run_until_complete(self.held.pop().close())

    def deadlock(self) -> list[BaseException]:
        """Two transactions locking two rows in opposite order; what each second ``UPDATE``
        raised (one ``DeadlockDetectedError``, when PostgreSQL broke the deadlock)."""
        return self.loop.run_until_complete(self._deadlock())

    async def _deadlock(self) -> list[BaseException]:
        first, second = [await asyncpg.connect(self.dsn, timeout=30) for _ in range(2)]
        try:
            await first.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE} (id int PRIMARY KEY, n int NOT NULL);"
                f"INSERT INTO {TABLE} VALUES (1, 0), (2, 0) ON CONFLICT DO NOTHING"
            )
            update = f"UPDATE {TABLE} SET n = n + 1 WHERE id = $1"
            for connection, row in ((first, 1), (second, 2)):
                await connection.execute("BEGIN")
                await connection.execute(update, row)
            # Each now waits for the row the other holds: only the detector can end this.
            outcomes = await asyncio.gather(
                first.execute(update, 2), second.execute(update, 1), return_exceptions=True
            )
            for connection in (first, second):
                await connection.execute("ROLLBACK")
            return [o for o in outcomes if isinstance(o, BaseException)]
        finally:
            for connection in (first, second):
                await connection.close()

    def close(self) -> None:
        self.release()
        self.loop.close()
