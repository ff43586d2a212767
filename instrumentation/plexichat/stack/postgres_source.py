"""``postgres_exporter``'s data source: the service's own database URL, as the exporter reads it.

The service takes a SQLAlchemy URL (``service.database_url``:
``postgresql+asyncpg://user:password@host:port/database?ssl=...``); the exporter (Go's lib/pq)
takes ``postgresql://`` with an ``sslmode``. ``DataSource.from_url`` parses the URL as the
service does (SQLAlchemy's ``make_url``, so the same percent-decoding) and ``write`` leaves the
three files the exporter reads through ``DATA_SOURCE_URI_FILE``, ``DATA_SOURCE_USER_FILE`` and
``DATA_SOURCE_PASS_FILE`` (``FILES``): the password is on no command line and in no
environment (the exporter logs its DSN with the password replaced by ``PASSWORD_REMOVED``).

Every target makes the files this way: ``plexichat-obs up`` calls ``write`` itself; the chart's
init container and Compose's ``postgres-source`` service run ``plexichat-obs postgres-source
--out DIR`` in the service's image, with the service's database URL in their environment.

TLS: asyncpg's ``ssl`` query parameter becomes lib/pq's ``sslmode``. ``disable``, ``require``,
``verify-ca`` and ``verify-full`` pass as they are; ``prefer`` and ``allow``, and no ``ssl``
at all (asyncpg's default is ``prefer``), become ``disable``: lib/pq 1.10 (in Debian's exporter
and in the pinned image) has neither, and its own default, ``require``, fails against a server
without TLS, which the service's ``prefer`` accepts. A server that insists on TLS then refuses
the exporter (``pg_up`` 0): say ``ssl=require`` in the URL. The URL's other query parameters
are asyncpg's connection options, not the server's; the exporter gets none of them.

Needs SQLAlchemy (the ``service`` extra, in the service's image), not the ``stack`` extra.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

KEY = "service.database_url"
FILES = {
    "uri": "DATA_SOURCE_URI_FILE",
    "user": "DATA_SOURCE_USER_FILE",
    "password": "DATA_SOURCE_PASS_FILE",
}
"""File name -> the exporter's variable naming it."""
SSL_MODES = {
    "disable": "disable",
    "allow": "disable",
    "prefer": "disable",
    "require": "require",
    "verify-ca": "verify-ca",
    "verify-full": "verify-full",
}
"""asyncpg's ``ssl`` value -> lib/pq's ``sslmode`` (see the module docstring)."""
DEFAULT_PORT = 5432


class DataSourceError(ValueError):
    """The database URL names PostgreSQL in a way the exporter cannot use. The message names
    the key and what is wrong, never the URL (it holds the password)."""


@dataclass(frozen=True, repr=False)
class DataSource:
    """Where postgres_exporter connects: ``uri`` (``host:port/database?sslmode=...``), as whom
    (``user``) and with what ``password`` ("" for none). Its repr leaves the password out."""

    uri: str
    user: str
    password: str

    def __repr__(self) -> str:
        return f"DataSource(uri={self.uri!r}, user={self.user!r})"

    @classmethod
    def from_url(cls, url: str | None) -> DataSource | None:
        """The data source of the service's database URL; ``None`` when it is not PostgreSQL
        (no URL: SQLite). ``DataSourceError`` when it is PostgreSQL the exporter cannot use."""
        if url is None:
            return None
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):
            raise DataSourceError(f"{KEY} is not a database URL") from None
        if parsed.get_backend_name() != "postgresql":
            return None
        if parsed.host is None or "host" in parsed.query:
            raise DataSourceError(
                f"{KEY} names no single host[:port] (a Unix socket or several hosts): "
                "postgres_exporter needs one to connect to"
            )
        if not parsed.username:
            raise DataSourceError(f"{KEY} names no user: postgres_exporter needs one")
        password = parsed.password or ""
        database = parsed.database or parsed.username  # asyncpg's default: the user's name
        named = (("user", parsed.username), ("password", password), ("database", database))
        for what, value in named:
            if any(character.isspace() for character in value):
                raise DataSourceError(
                    f"{KEY}: the {what} holds white space, which postgres_exporter cannot "
                    "connect with (it splits its connection string at spaces, then logs it "
                    "whole, password and all, and exits; it strips its files' ends too)"
                )
        ssl = str(parsed.query.get("ssl", "prefer")).lower()
        if ssl not in SSL_MODES:
            raise DataSourceError(f"{KEY}: ssl={ssl!r} is not one of {', '.join(SSL_MODES)}")
        host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
        port = parsed.port or DEFAULT_PORT
        uri = f"{host}:{port}/{quote(database, safe='')}?sslmode={SSL_MODES[ssl]}"
        return cls(uri=uri, user=parsed.username, password=password)

    def write(self, directory: Path) -> dict[str, str]:
        """Write the three files into ``directory`` (created), each readable by anyone who can
        enter it (the exporter runs as another user in the bundles: keep the directory its
        own); the exporter's environment naming them."""
        directory.mkdir(parents=True, exist_ok=True)
        texts = {"uri": self.uri, "user": self.user, "password": self.password}
        for name, text in texts.items():
            path = directory / name
            path.unlink(missing_ok=True)  # read-only once written
            # Created with its final mode: never readable more widely, not even for a moment.
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(text)
        return environment(directory)


def environment(directory: Path) -> dict[str, str]:
    """The exporter's ``DATA_SOURCE_*_FILE`` variables for the files in ``directory``."""
    return {variable: str(directory / name) for name, variable in FILES.items()}
