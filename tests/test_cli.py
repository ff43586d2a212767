"""``plexichat-obs``: argument handling and configuration errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from plexichat.cli import main
from plexichat.exit_code import ExitCode
from tests.support.tools import free_port

PASSWORD = "s3cr3t-pw"


def test_serve_with_an_unknown_config_key_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "performance.yaml"
    config.write_text("performance:\n  monitoring_enabled: true\n  no_such_knob: 3\n")
    assert main(["serve", "--config", str(config), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "no_such_knob" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("mysql://u@h/db", "driver 'mysqldb'"),
        (f"postgresql+asyncpg://u:{PASSWORD}@h:port/db", "'postgresql+asyncpg://u:***@h:port/db'"),
    ],
)
def test_serve_with_an_unusable_database_url_exits_2_and_never_shows_its_password(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    shown: str,
) -> None:
    monkeypatch.setenv("PLEXICHAT_SERVICE__DATABASE_URL", url)
    # serve opens the performance log before it builds the app: not in the checkout
    log = tmp_path / "performance.log"
    monkeypatch.setenv("PLEXICHAT_PERFORMANCE__PERFORMANCE_LOG_FILE", str(log))
    assert main(["serve", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "database_url" in err
    assert shown in err
    assert PASSWORD not in err
    assert "Traceback" not in err


def test_serve_whose_start_up_fails_exits_1_with_the_cause_and_nothing_else(
    tmp_path: Path,
) -> None:
    # A database that refuses connections: the lifespan fails. uvicorn's own status would be 3,
    # which for us means "a critical alert fires".
    env = {
        **os.environ,
        "PLEXICHAT_SERVICE__DATABASE_URL": (
            f"postgresql+asyncpg://u:{PASSWORD}@127.0.0.1:{free_port()}/x"
        ),
        "PLEXICHAT_PERFORMANCE__PERFORMANCE_LOG_FILE": str(tmp_path / "performance.log"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "plexichat.cli", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == ExitCode.FAILURE, done.stderr
    assert "ConnectionRefusedError" in done.stderr
    assert "KeyError" not in done.stderr  # the shutdown half does not bury the cause
    assert "Application startup failed" in done.stderr
    assert PASSWORD not in done.stderr


def test_serve_refuses_an_unknown_log_level_naming_the_levels(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--log-level", "loud", "--port", "0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--log-level: 'loud' is not a log level" in err
    assert "DEBUG, INFO, WARNING, ERROR, CRITICAL" in err


def test_loadgen_refuses_bad_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["loadgen", "--url", "http://x", "--duration", "0", "--rps", "5"])
    assert exit_info.value.code == 2
    assert "--duration" in capsys.readouterr().err
    assert (
        main(
            [
                "loadgen",
                "--url",
                "http://x",
                "--duration",
                "1",
                "--rps",
                "5",
                "--identities",
                str(2**24 + 1),
            ]
        )
        == 2
    )
    assert "identities" in capsys.readouterr().err


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


def test_status_check_looks_once_so_it_refuses_watch(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["status", "--check", "--watch", "5"])
    assert exit_info.value.code == ExitCode.USAGE
    assert "--watch: not allowed with argument --check" in capsys.readouterr().err
