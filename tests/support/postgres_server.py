"""A real PostgreSQL server (Debian's ``postgresql`` package) on a free loopback port and a
throwaway data directory, started and stopped by PID. The tests and ``scripts/bench capacity``
both use it.

PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` user (the Debian
package creates it) through ``setpriv`` (which execs, so the PID is the postmaster's), and the
data directory is made under the system's temp directory and given to that user (pytest's
``tmp_path`` is private to root); as anyone else it runs as that user. ``durable=False`` (the
tests) turns ``fsync`` and ``synchronous_commit`` off: nothing here must survive a crash.
``password`` makes the superuser's password that (SCRAM authentication, the URLs carry it
percent-encoded); without it every connection is trusted. ``max_connections`` is the server's
(200 unless told: a test that exhausts it starts one with a few).
"""

from __future__ import annotations

import glob
import importlib.util
import itertools
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from tests.support.processes import stop
from tests.support.tools import free_port

DATABASE = "plexichat"
INSTALL = "apt-get install -y postgresql (or scripts/system-packages); pip install -e '.[postgres]'"


def postgres_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` with ``initdb``, or ``None``."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def require_postgres() -> Path:
    """The PostgreSQL binaries' directory; fail under CI, skip elsewhere, when PostgreSQL or the
    asyncpg driver is missing."""
    bin_dir = postgres_bin_dir()
    missing = []
    if bin_dir is None:
        missing.append("PostgreSQL")
    if importlib.util.find_spec("asyncpg") is None:
        missing.append("asyncpg")
    if missing:
        import pytest  # here: scripts/bench capacity uses this module without pytest

        message = f"{' and '.join(missing)} not installed ({INSTALL})"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    assert bin_dir is not None
    return bin_dir


class PostgresServer:
    def __init__(
        self,
        bin_dir: Path,
        *,
        durable: bool = True,
        password: str | None = None,
        max_connections: int = 200,
    ) -> None:
        self.bin_dir = bin_dir
        self.durable = durable
        self.password = password
        self.max_connections = max_connections
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="plexichat-pg-"))
        self.process: subprocess.Popen[bytes] | None = None
        self._as_root = os.geteuid() == 0
        self._names = itertools.count(1)

    @property
    def url(self) -> str:
        """The service's database URL for this server's ``plexichat`` database."""
        return self.url_of(DATABASE)

    def url_of(self, database: str) -> str:
        return f"postgresql+asyncpg://{self.dsn_of(database).removeprefix('postgresql://')}"

    def dsn_of(self, database: str) -> str:
        """``database``'s URL for a driver (asyncpg's ``connect``, libpq): ``postgresql://``."""
        secret = f":{quote(self.password, safe='')}" if self.password is not None else ""
        return f"postgresql://postgres{secret}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its URL."""
        name = f"{DATABASE}_{next(self._names)}"
        self._createdb(name)
        return self.url_of(name)

    def _createdb(self, name: str) -> None:
        self._run(
            str(self.bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
            "-U", "postgres", name,
        )  # fmt: skip

    def _command(self, *argv: str) -> list[str]:
        if not self._as_root:
            return list(argv)
        return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", *argv]

    def _run(self, *argv: str) -> None:
        env = dict(os.environ, PGPASSWORD=self.password or "")
        done = subprocess.run(
            self._command(*argv), capture_output=True, text=True, timeout=60, check=False, env=env
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr}")

    def start(self, extra: tuple[str, ...] = (), taskset: int | None = None) -> None:
        """initdb, start, wait until ready, create the ``plexichat`` database; ``taskset``
        pins the server (and every backend it forks) to that core."""
        data = self.directory / "data"
        if self._as_root:
            user = pwd.getpwnam("postgres")
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        auth = ["-A", "trust"]
        if self.password is not None:
            secret = self.directory / "password"
            secret.write_text(self.password, encoding="utf-8")
            if self._as_root:
                os.chown(secret, user.pw_uid, user.pw_gid)
            auth = ["-A", "scram-sha-256", f"--pwfile={secret}"]
        self._run(str(self.bin_dir / "initdb"), "-D", str(data), "-U", "postgres", *auth)
        connections = f"max_connections={self.max_connections}"
        options = ["-c", "listen_addresses=127.0.0.1", "-c", connections]
        if not self.durable:
            options += ["-c", "fsync=off", "-c", "synchronous_commit=off"]
        with (self.directory / "server.log").open("wb") as log:
            pin = ["taskset", "-c", str(taskset)] if taskset is not None else []
            self.process = subprocess.Popen(
                pin
                + self._command(
                    str(self.bin_dir / "postgres"),
                    "-D", str(data), "-k", str(self.directory), "-p", str(self.port),
                    *options, *extra,
                ),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            ready = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
                timeout=10,
                check=False,
            )
            if ready.returncode == 0:
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not start:\n{self.log()}")
            time.sleep(0.1)
        self._createdb(DATABASE)

    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def pids(self) -> list[int]:
        """The postmaster and its backends and helpers (for their CPU time)."""
        if self.process is None:
            return []
        master = self.process.pid
        children = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except OSError:
                    continue
                if ppid == master:
                    children.append(int(entry))
        return [master, *children]  # the postmaster forks every process itself

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend (its process group): PostgreSQL dies as in
        a crash or an OOM kill, no shutdown."""
        if self.process is not None:
            stop(self.process, timeout=10, sig=signal.SIGKILL, group=True)

    def stop(self) -> None:
        if self.process is not None:
            # SIGINT: "fast" shutdown (abort sessions, then exit)
            stop(self.process, timeout=15, sig=signal.SIGINT, group=True)
            self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)
