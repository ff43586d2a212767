"""The Redis password through each bundle's wiring, for every hostile value.

For Compose and for the chart: the service's environment as the bundle builds it goes through
``load_settings()`` and must yield the exact password; a real ``redis-server`` started by the
bundle's own start-up script (paths and port moved to a temp dir and a free loopback port) must
accept that password with AUTH, refuse another, and pass the bundle's own health check or
readiness probe. The scripts run under this machine's /bin/sh (dash, as in the service image;
the Redis image's is busybox ash) against Debian's redis-server 7.0 (the images pin 8.8).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from plexichat.config import load_settings
from tests.deploy.chart import objects, one, render
from tests.deploy.compose import document
from tests.deploy.test_image_facts import kubernetes_expand
from tests.support.hostile import HOSTILE_TEXT
from tests.support.processes import stop
from tests.support.tools import free_port, require_tool, requires_tool

PASSWORD_KEY = "PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__PASSWORD"
SECRETS = "/run/secrets/plexichat"


@pytest.fixture(scope="module")
def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = document()["services"]
    return services


@pytest.fixture(scope="module")
def chart_objects() -> list[dict[str, Any]]:
    return objects(render())


def _call(port: int, *words: str) -> bytes:
    """One RESP command on a fresh connection (as redis-cli sends it); the first reply line."""
    encoded = [word.encode() for word in words]
    request = b"*%d\r\n" % len(encoded) + b"".join(
        b"$%d\r\n%s\r\n" % (len(word), word) for word in encoded
    )
    with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
        connection.sendall(request)
        return connection.recv(256).split(b"\r\n")[0]


def _start(script: str, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        ["/bin/sh", "-c", script], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        assert process.poll() is None, "redis-server exited at start-up"
        try:
            _call(port, "PING")
            return process
        except OSError:
            time.sleep(0.02)
    process.kill()
    process.wait()
    raise AssertionError("redis-server did not answer")


def _serve_redis(script: str, port: int, data: Path) -> str:
    """The bundle's script with its data dir and port moved to ``data`` and ``port``."""
    assert "exec redis-server - " in script
    return script.replace("--dir /data", f"--dir {data}").replace(
        "exec redis-server - ", f"exec redis-server - --bind 127.0.0.1 --port {port} "
    )


def _assert_auth(port: int, password: str) -> None:
    assert _call(port, "PING").startswith(b"-NOAUTH")
    assert _call(port, "AUTH", password + "x").startswith(b"-WRONGPASS")
    assert _call(port, "AUTH", password) == b"+OK"


def _environment_of_exec(script: str, env: dict[str, str]) -> dict[str, str]:
    """The environment ``script`` hands to the program it execs last: that program is replaced
    by one printing its environment (only the exec is replaced, the wiring runs as written)."""
    program = "exec plexichat-obs serve"
    assert script.endswith(program)
    printer = f"exec {sys.executable} -c 'import json, os; print(json.dumps(dict(os.environ)))'"
    output = subprocess.run(
        ["/bin/sh", "-c", script.removesuffix(program) + printer],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    environ: dict[str, str] = json.loads(output)
    return environ


@requires_tool("redis-server", "redis-cli")
@pytest.mark.parametrize("password", HOSTILE_TEXT.values(), ids=HOSTILE_TEXT.keys())
def test_compose_carries_the_password_exactly(
    password: str, compose_services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    redis_server = require_tool("redis-server")
    require_tool("redis-cli")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "redis-password").write_text(password, encoding="utf-8")
    env = {"PATH": f"{Path(redis_server).parent}:{os.environ['PATH']}", "LANG": "C.UTF-8"}

    # The service: its entrypoint exports the secret file into the variable, then execs.
    service = compose_services["plexichat"]
    script = service["entrypoint"][2].replace(SECRETS, str(secrets))
    environ = _environment_of_exec(script, env)
    environ.update({k: str(v) for k, v in service["environment"].items()})
    settings = load_settings(
        environ={k: v for k, v in environ.items() if k.startswith(("PLEXICHAT_", "OTEL_"))}
    )
    assert settings.performance.caching.redis_cache.password == password

    # Redis: started by the bundle's command; then the bundle's health check.
    port = free_port()
    data = tmp_path / "data"
    data.mkdir()
    redis_script = _serve_redis(compose_services["redis"]["command"][2], port, data)
    process = _start(redis_script.replace(SECRETS, str(secrets)), env, port)
    try:
        _assert_auth(port, password)
        check = compose_services["redis"]["healthcheck"]["test"]
        assert check[0] == "CMD-SHELL"
        health = (
            check[1].replace(SECRETS, str(secrets)).replace("redis-cli", f"redis-cli -p {port}")
        )
        assert subprocess.run(["/bin/sh", "-c", health], env=env, check=False).returncode == 0
    finally:
        stop(process)


@requires_tool("redis-server", "redis-cli")
@pytest.mark.parametrize("password", HOSTILE_TEXT.values(), ids=HOSTILE_TEXT.keys())
def test_the_chart_carries_the_password_exactly(
    password: str, chart_objects: list[dict[str, Any]], tmp_path: Path
) -> None:
    redis_server = require_tool("redis-server")
    require_tool("redis-cli")
    env = {"PATH": f"{Path(redis_server).parent}:{os.environ['PATH']}", "LANG": "C.UTF-8"}

    # The service: the ConfigMap's variables plus the Secret's value through secretKeyRef.
    deployment = one(chart_objects, "Deployment", "plexichat")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    environ = dict(one(chart_objects, "ConfigMap", "plexichat")["data"])
    for variable in container["env"]:
        reference = variable["valueFrom"]["secretKeyRef"]
        assert reference["key"] == "redis-password"
        environ[variable["name"]] = password  # the kubelet copies the Secret's bytes as they are
    settings = load_settings(environ=environ)
    assert settings.performance.caching.redis_cache.password == password

    # Redis: the container's command and args as the kubelet expands them, its env from the
    # Secret; then its readiness probe.
    redis_container = one(chart_objects, "Deployment", "redis")["spec"]["template"]["spec"][
        "containers"
    ][0]
    assert [v["name"] for v in redis_container["env"]] == ["REDIS_PASSWORD"]
    env["REDIS_PASSWORD"] = password
    port = free_port()
    data = tmp_path / "data"
    data.mkdir()
    script = _serve_redis(kubernetes_expand(redis_container["args"][0]), port, data)
    assert redis_container["command"] == ["/bin/sh", "-c"]
    process = _start(script, env, port)
    try:
        _assert_auth(port, password)
        probe = redis_container["readinessProbe"]["exec"]["command"]
        assert probe[:2] == ["sh", "-c"]
        ready = probe[2].replace("redis-cli", f"redis-cli -p {port}")
        assert subprocess.run(["/bin/sh", "-c", ready], env=env, check=False).returncode == 0
    finally:
        stop(process)
