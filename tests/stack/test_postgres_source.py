"""postgres_exporter's data source from the service's database URL (``plexichat.stack.
postgres_source``) and ``plexichat-obs postgres-source``, the bundles' init step. That the
exporter really connects with what is written is tests/deploy/test_postgres_exporter.py's and
tests/e2e/test_postgres_exporter.py's (real PostgreSQL, real exporter)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from plexichat.stack.postgres_source import FILES, DataSource, DataSourceError, environment

SECRET = "pa:ss@w/rd%'x"
URL = "postgresql+asyncpg://plexichat:pa%3Ass%40w%2Frd%25%27x@db.example:6543/chat"


@pytest.mark.parametrize(
    ("url", "uri", "user", "password"),
    [
        (URL, "db.example:6543/chat?sslmode=disable", "plexichat", SECRET),
        # No port: PostgreSQL's; no database: the user's name, as asyncpg connects.
        ("postgresql+asyncpg://me@db", "db:5432/me?sslmode=disable", "me", ""),
        ("postgresql+asyncpg://me:@[::1]:5/d", "[::1]:5/d?sslmode=disable", "me", ""),
        ("postgresql+asyncpg://me@h/my%2Fdb", "h:5432/my%2Fdb?sslmode=disable", "me", ""),
    ],
)
def test_the_url_becomes_the_exporters_uri_user_and_password(
    url: str, uri: str, user: str, password: str
) -> None:
    source = DataSource.from_url(url)
    assert source == DataSource(uri=uri, user=user, password=password)


@pytest.mark.parametrize(
    ("ssl", "sslmode"),
    [
        (None, "disable"),  # asyncpg's default, prefer: lib/pq has no fallback
        ("prefer", "disable"),
        ("allow", "disable"),
        ("disable", "disable"),
        ("require", "require"),
        ("verify-ca", "verify-ca"),
        ("verify-full", "verify-full"),
    ],
)
def test_asyncpgs_ssl_becomes_lib_pqs_sslmode(ssl: str | None, sslmode: str) -> None:
    query = f"?ssl={ssl}&command_timeout=5" if ssl else "?command_timeout=5"
    source = DataSource.from_url(f"postgresql+asyncpg://u@h/d{query}")
    assert source is not None
    assert source.uri == f"h:5432/d?sslmode={sslmode}"  # asyncpg's options are not passed on


@pytest.mark.parametrize("url", [None, "sqlite+aiosqlite:///data/plexichat.db"])
def test_no_postgresql_no_data_source(url: str | None) -> None:
    assert DataSource.from_url(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql+asyncpg://u:secret@/d?host=/run/postgresql", "names no single host"),
        ("postgresql+asyncpg://u:secret@h1:1,h2:2/d", "is not a database URL"),
        ("postgresql+asyncpg://:secret@h/d", "names no user"),
        ("postgresql+asyncpg://u:sec%20ret@h/d", "the password holds white space"),
        ("postgresql+asyncpg://u:secret@h/my%20db", "the database holds white space"),
        ("postgresql+asyncpg://u:secret@h/d?ssl=sometimes", "ssl='sometimes' is not one of"),
        ("not a url at all secret", "is not a database URL"),
    ],
)
def test_a_postgresql_url_the_exporter_cannot_use_is_named_but_never_shown(
    url: str, problem: str
) -> None:
    with pytest.raises(DataSourceError) as error:
        DataSource.from_url(url)
    message = str(error.value)
    assert message.startswith("service.database_url")
    assert problem in message
    assert "secret" not in message  # nor the password, nor anything of the URL
    assert "sec%20ret" not in message


def test_the_files_hold_exactly_the_values_are_read_only_and_named_by_the_environment(
    tmp_path: Path,
) -> None:
    source = DataSource.from_url(URL)
    assert source is not None
    assert SECRET not in repr(source)
    env = source.write(tmp_path / "source")
    assert env == environment(tmp_path / "source")
    assert set(env) == {"DATA_SOURCE_URI_FILE", "DATA_SOURCE_USER_FILE", "DATA_SOURCE_PASS_FILE"}
    texts = {name: (tmp_path / "source" / name).read_text() for name in FILES}
    assert texts == {"uri": source.uri, "user": "plexichat", "password": SECRET}
    for name in FILES:
        mode = stat.S_IMODE((tmp_path / "source" / name).stat().st_mode)
        assert mode == 0o444, (name, oct(mode))
    source.write(tmp_path / "source")  # rewritten at every start, read-only files and all


def _postgres_source(tmp_path: Path, url: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEXICHAT_")}
    if url is not None:
        env["PLEXICHAT_SERVICE__DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "plexichat.cli", "postgres-source", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_command_writes_the_files_and_says_where_never_the_password(tmp_path: Path) -> None:
    done = _postgres_source(tmp_path, URL)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o" / "password").read_text() == SECRET
    output = done.stdout + done.stderr
    assert str(tmp_path / "o" / "password") in output
    assert "db.example:6543/chat" in output
    assert SECRET not in output
    assert "pa%3Ass" not in output


def test_the_command_refuses_a_service_without_postgresql_or_a_url_it_cannot_use(
    tmp_path: Path,
) -> None:
    without = _postgres_source(tmp_path, None)
    assert without.returncode == 2
    assert "names no PostgreSQL database" in without.stderr
    unusable = _postgres_source(tmp_path, "postgresql+asyncpg://u:top%20secret@h/d")
    assert unusable.returncode == 2
    assert "the password holds white space" in unusable.stderr
    assert "top" not in unusable.stderr
    assert not (tmp_path / "o").exists()
