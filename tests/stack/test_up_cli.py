"""``plexichat-obs up`` before anything starts: the checks that must fail in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from plexichat.stack import ports
from plexichat.stack.binaries import VersionError, release
from plexichat.stack.components import identities_for
from tests.support.tools import require_tool, requires_tool


def _up(
    tmp_path: Path, *args: str, path: str | None = None, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEXICHAT_")}
    if path is not None:
        env["PATH"] = path
    if database_url is not None:
        env["PLEXICHAT_SERVICE__DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "plexichat.cli", "up", "--dir", str(tmp_path / "s"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_a_missing_program_is_one_line_naming_its_debian_package(tmp_path: Path) -> None:
    result = _up(tmp_path, path=str(tmp_path))  # nothing on PATH
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "redis-server not found on PATH" in lines[0]
    assert "Debian package redis-server" in lines[0]
    assert "scripts/system-packages" in lines[0]
    assert not (tmp_path / "s").exists()  # nothing created, nothing started


def test_postgres_exporter_is_needed_only_when_the_service_uses_postgresql(tmp_path: Path) -> None:
    """With every other program on PATH, a missing postgres_exporter is named, in one line,
    only when the service is given PostgreSQL (and before anything starts: the others are only
    looked up, so any executable stands for them)."""
    programs = tmp_path / "bin"
    programs.mkdir()
    for name in (
        "redis-server",
        "prometheus-redis-exporter",
        "prometheus",
        "prometheus-alertmanager",
    ):
        (programs / name).symlink_to(sys.executable)
    url = "postgresql+asyncpg://plexichat:s3cret@127.0.0.1:1/plexichat"
    result = _up(tmp_path, path=str(programs), database_url=url)
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "prometheus-postgres-exporter not found on PATH" in lines[0]
    assert "Debian package prometheus-postgres-exporter" in lines[0]
    assert not (tmp_path / "s").exists()


def test_a_postgresql_url_the_exporter_cannot_use_is_named_without_the_password(
    tmp_path: Path,
) -> None:
    result = _up(tmp_path, database_url="postgresql+asyncpg://u:my%20s3cret@db/d")
    assert result.returncode == 2
    assert "service.database_url: the password holds white space" in result.stdout
    assert "s3cret" not in result.stdout + result.stderr
    assert not (tmp_path / "s").exists()


def _programs(tmp_path: Path, prometheus_version: str) -> str:
    """A PATH with every program ``up`` looks for: any executable stands for the others (only
    looked up), ``prometheus`` prints ``prometheus_version`` as its ``--version``."""
    programs = tmp_path / "bin"
    programs.mkdir()
    for name in ("redis-server", "prometheus-redis-exporter", "prometheus-alertmanager"):
        (programs / name).symlink_to(sys.executable)
    prometheus = programs / "prometheus"
    prometheus.write_text(f"#!/bin/sh\nprintf '%s\\n' '{prometheus_version}'\n")
    prometheus.chmod(0o755)
    return str(programs)


def test_native_histograms_on_a_prometheus_older_than_them_is_one_line(tmp_path: Path) -> None:
    path = _programs(tmp_path, "prometheus, version 2.39.1+ds (branch: debian/sid)")
    result = _up(tmp_path, "--native-histograms", path=path)
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert lines == [
        f"plexichat-obs up: {path}/prometheus: Prometheus 2.39.1 stores no native histograms "
        "(the first release that does is 2.40.0); put a newer prometheus first on PATH, or run "
        "up without --native-histograms"
    ]
    assert not (tmp_path / "s").exists()


def test_a_prometheus_version_that_names_no_release_is_one_line(tmp_path: Path) -> None:
    path = _programs(tmp_path, "Prometheus (development build)")
    result = _up(tmp_path, "--native-histograms", path=path)
    assert result.returncode == 1
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert f"{path}/prometheus --version (exit status 0) printed " in lines[0]
    assert "'Prometheus (development build)', not 'NAME, version X.Y.Z ...'" in lines[0]
    assert not (tmp_path / "s").exists()


def test_a_program_that_cannot_say_its_version_is_named(tmp_path: Path) -> None:
    failing = tmp_path / "prometheus"
    failing.write_text("#!/bin/sh\necho 'prometheus, version 3.5.3' >&2\nexit 3\n")
    failing.chmod(0o755)
    with pytest.raises(VersionError, match=r"--version \(exit status 3\) printed"):
        release(str(failing))
    with pytest.raises(VersionError, match="--version failed"):
        release(str(tmp_path / "absent"))


@requires_tool("prometheus", "prometheus3")
def test_the_release_of_the_real_prometheus_binaries() -> None:
    assert release(require_tool("prometheus")) == (2, 42, 0)  # Debian bookworm's
    major, minor, _ = release(require_tool("prometheus3"))  # forky's floats
    assert (major, minor) >= (3, 5)


def test_faults_are_refused_under_production_and_bad_specs_named(tmp_path: Path) -> None:
    refused = _up(tmp_path, "--profile", "production", "--fault", "error_rate=0.5")
    assert refused.returncode == 2
    assert "refused under the 'production' profile" in refused.stdout
    typo = _up(tmp_path, "--fault", "error_rat=0.5")
    assert typo.returncode == 2
    assert "--fault: 'error_rat=0.5' is not KEY=VALUE" in typo.stdout


def test_ports_parse_and_refuse_what_cannot_work() -> None:
    assert ports.parse(None) == dict(ports.DEFAULT_PORTS)
    assert set(ports.parse("auto").values()) == {0}
    assert ports.parse("prometheus=19090,service=0")["prometheus"] == 19090
    with pytest.raises(ports.PortError, match="NAME=PORT"):
        ports.parse("grafana=3000")
    with pytest.raises(ports.PortError, match="outside"):
        ports.parse("service=70000")
    with pytest.raises(ports.PortError, match="both ask for port"):
        ports.resolve({"service": 0, "prometheus": 19999, "redis": 19999})


def test_a_taken_port_is_named_with_the_flag_to_change_it() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind((ports.HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ports.PortError, match="--ports service=PORT") as error:
            ports.resolve({"service": port})
        assert f"port {port} for service" in str(error.value)


def test_identities_keep_every_client_inside_the_guides_rate_limit() -> None:
    for rps in (1, 50, 600):
        per_client_per_minute = rps * 60 / identities_for(rps)
        assert per_client_per_minute <= 100 / 4
