"""Both bundles against what their images provide (compose/image-facts.yaml).

Static checks cannot see inside an image; the facts file records, per pinned tag and with the
upstream file each fact was read from, what the bundles rely on. Every health check, probe,
shell script, init command, ``user:`` and securityContext is held against it here, and a pin
that moved to a tag whose facts were not read fails, listing what to re-read.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.chart import SCENARIOS, objects, pod_specs, render, scenario_values
from tests.deploy.compose import bind_mounts, document
from tests.deploy.image_facts import (
    Facts,
    Pin,
    command_problems,
    commands,
    facts,
    pins,
    runs_program,
    shell_problems,
    stale_pins,
    user_ids,
)

CHART_CASES = [{}, {"tempo": {"enabled": True}}, *(scenario_values(p) for p in SCENARIOS)]


def test_every_pin_names_the_tag_its_facts_were_read_for() -> None:
    problems = stale_pins(pins(), facts())
    assert not problems, "\n".join(problems)


def test_a_moved_pin_fails_listing_the_facts_to_re_read() -> None:
    moved = Pin("redis:9.0.0-alpine", "compose/.env REDIS_IMAGE")
    (problem,) = stale_pins([moved], facts())
    assert problem.startswith(
        "redis:9.0.0-alpine (compose/.env REDIS_IMAGE) differs from the tag its facts were read "
        "for (redis:8.8.0-alpine)"
    )
    assert "user = '999:1000' (from https://github.com/redis/docker-library-redis/" in problem
    assert "shell = '/bin/sh'" in problem


def test_every_fact_names_its_source_and_every_entry_is_pinned() -> None:
    pinned = {pin.reference for pin in pins()}
    for reference, image in facts().items():
        assert reference in pinned, f"{reference} has facts but nothing pins it"
        for name, fact in image.items():
            assert fact.source.startswith(("https://github.com/", "Dockerfile", "compose/")), (
                f"{reference} {name}: the source must name the upstream file"
            )


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            'x="$(sha256sum < f)"\nexec redis-server - <<EOF\nuser ${x}\nEOF\n',
            ["sha256sum", "redis-server"],
        ),
        ('REDISCLI_AUTH="$(cat f)" redis-cli ping | grep -q PONG', ["redis-cli", "cat", "grep"]),
        ("set -eu; export A=1 && exec plexichat-obs serve", ["set", "export", "plexichat-obs"]),
    ],
)
def test_commands_are_found_in_substitutions_pipelines_and_after_exec(
    script: str, expected: list[str]
) -> None:
    assert sorted(commands(script)) == sorted(expected)


def test_a_check_the_image_cannot_run_is_reported() -> None:
    tempo = facts()["grafana/tempo:2.10.8"]
    assert command_problems(tempo, ["wget", "-q", "http://x/ready"], "tempo") == [
        "tempo: runs 'wget', which the image does not have"
    ]
    assert shell_problems(tempo, "true", "tempo") == [
        "tempo: runs a shell script, but the image has no shell"
    ]


# --- Compose ----------------------------------------------------------------------------------


@pytest.fixture(
    scope="module",
    params=[{}, {"postgres": True}, {"node": True}],
    ids=["sqlite", "postgres", "node"],
)
def compose_services(request: pytest.FixtureRequest) -> dict[str, dict[str, Any]]:
    """The Compose services, as shipped and with docker-compose.postgres.yml or
    docker-compose.node.yml laid over."""
    services: dict[str, dict[str, Any]] = document(**request.param)["services"]
    return services


def _image(reference: str) -> Facts:
    assert reference in facts(), f"{reference} has no entry in compose/image-facts.yaml"
    return facts()[reference]


def test_compose_health_checks_entrypoints_and_commands_run_in_their_images(
    compose_services: dict[str, dict[str, Any]],
) -> None:
    problems: list[str] = []
    for name, service in compose_services.items():
        image = _image(service["image"])
        test = service.get("healthcheck", {}).get("test")
        if test is not None:
            where = f"compose {name} healthcheck"
            if test[0] == "CMD-SHELL":
                problems += shell_problems(image, test[1], where)
            else:
                problems += command_problems(image, test[1:], where)
        for key in ("entrypoint", "command"):
            argv = service.get(key)
            if not argv or (key == "command" and ("entrypoint" in service or argv[0][0] == "-")):
                continue  # no program of its own: flags for the image's entrypoint
            problems += command_problems(image, argv, f"compose {name} {key}")
    assert not problems, "\n".join(problems)


def test_compose_services_without_a_health_check_have_nothing_to_run_one_with(
    compose_services: dict[str, dict[str, Any]],
) -> None:
    services = compose_services
    for name, service in services.items():
        if "healthcheck" in service or service.get("restart") == "no":
            continue
        image = _image(service["image"])
        assert image["shell"].value is None, f"{name}: its image could run a health check"
        assert not {"wget", "curl"} & set(image["executables"].value), name
        for other, dependant in services.items():
            condition = dependant.get("depends_on", {}).get(name, {}).get("condition")
            assert condition != "service_healthy", f"{other} waits for {name} to be healthy"


def test_compose_users_are_the_images_own(compose_services: dict[str, dict[str, Any]]) -> None:
    for name, service in compose_services.items():
        if "user" not in service:
            continue
        image = _image(service["image"])
        if service["user"] == "0:0":  # secrets-init writes into a fresh root-owned volume
            continue
        assert service["user"] == image["user"].value, f"{name}: {image['user']}"


def test_compose_named_volumes_start_owned_by_the_user_that_writes_them(
    compose_services: dict[str, dict[str, Any]],
) -> None:
    """A fresh named volume copies the ownership of the image directory it is mounted on;
    mounted anywhere else it belongs to root and a non-root process cannot write it."""
    for name, service in compose_services.items():
        image = _image(service["image"])
        uid = int(str(service.get("user", image["user"].value)).partition(":")[0])
        for volume in service.get("volumes", []):
            source, target, *mode = volume.split(":")
            read_only = "ro" in (mode[0].split(",") if mode else [])
            # Bind mounts (./ of the checkout, / of the host) are no named volume.
            if source.startswith((".", "/")) or read_only or uid == 0:
                continue
            assert target in image["owned_dirs"].value, (
                f"{name}: volume {source} at {target} would be root's; the image owns "
                f"{image['owned_dirs'].value} ({image['owned_dirs'].source})"
            )


def test_compose_read_only_services_can_write_where_they_write(
    compose_services: dict[str, dict[str, Any]],
) -> None:
    for name, service in compose_services.items():
        if not service.get("read_only"):
            continue
        mounted = [v.split(":")[1] for v in service.get("volumes", []) if not v.endswith(":ro")]
        mounted += [t.split(":")[0] for t in service.get("tmpfs", [])]
        image = _image(service["image"])
        argv = service.get("entrypoint") or service.get("command")
        if not runs_program(image, argv if argv and argv[0][0] != "-" else None):
            continue  # a one-off (secrets-init): not the program whose writes are recorded
        for path in image["writes"].value:
            assert _under_any(path, mounted), f"{name} writes {path} on a read-only root"
    assert bind_mounts(compose_services["prometheus"])  # the helper sees bind mounts


def _under_any(path: str, mounts: list[str]) -> bool:
    return any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts)


# --- Helm -------------------------------------------------------------------------------------


def kubernetes_expand(text: str) -> str:
    """Kubernetes' expansion of command/args: ``$$`` is a literal ``$`` (the scripts here use
    no ``$(VAR)`` references, which would be replaced by the container's variables)."""
    return text.replace("$$", "$")


@pytest.fixture(scope="module", params=range(len(CHART_CASES)))
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return objects(render(CHART_CASES[request.param]))


def _containers(rendered: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    return [
        (f"{where} container {container['name']}", spec, container)
        for where, spec in pod_specs(rendered)
        for container in spec["containers"] + spec.get("initContainers", [])
    ]


def test_chart_probes_and_commands_run_in_their_images(rendered: list[dict[str, Any]]) -> None:
    problems: list[str] = []
    for where, _spec, container in _containers(rendered):
        image = _image(container["image"])
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            command = container.get(probe, {}).get("exec", {}).get("command")
            if command:
                problems += command_problems(image, command, f"{where} {probe}")
        argv = [*container.get("command", []), *container.get("args", [])]
        if container.get("command"):
            problems += command_problems(
                image, [kubernetes_expand(arg) for arg in argv], f"{where} command"
            )
    assert not problems, "\n".join(problems)


def test_chart_pods_run_as_the_images_user_and_can_write_where_they_write(
    rendered: list[dict[str, Any]],
) -> None:
    for where, spec, container in _containers(rendered):
        image = _image(container["image"])
        uid, gid = user_ids(image)
        # A container's own runAsUser/runAsGroup win over its pod's (an init container in
        # another image than the pod's main one).
        own_ids = {k: v for k, v in container["securityContext"].items() if k.startswith("runAs")}
        context = {**spec["securityContext"], **own_ids}
        mounts = [
            m["mountPath"] for m in container.get("volumeMounts", []) if not m.get("readOnly")
        ]
        argv = [*container.get("command", []), *container.get("args", [])]
        own = runs_program(image, argv if container.get("command") else None)
        writes = image["writes"].value if own else []  # a one-off (the helm test pod)
        assert context["runAsUser"] == uid, f"{where}: the image's user is {image['user']}"
        if context["runAsGroup"] != gid:
            # Another group only works where everything written is a volume fsGroup owns.
            assert context["fsGroup"] == context["runAsGroup"], where
            assert all(_under_any(path, mounts) for path in writes), where
        if container["securityContext"]["readOnlyRootFilesystem"]:
            for path in writes:
                assert _under_any(path, mounts), f"{where} writes {path} on a read-only root"
