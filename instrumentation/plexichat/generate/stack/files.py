"""The stack configuration files ``plexichat-obs generate`` writes for the bundles.

Compose mounts ``compose/prometheus/prometheus.yml`` and ``compose/alertmanager/alertmanager.yml``
and takes each program's command line from ``command.yml`` beside it (``extends`` in
``docker-compose.yml``); with PostgreSQL (``docker-compose.postgres.yml``) it mounts
``prometheus-postgres.yml``, the same with job ``postgres``; with node_exporter
(``docker-compose.node.yml``) ``prometheus-node.yml``, with job ``node``. The chart reads
``files/prometheus/`` and ``files/alertmanager/`` with ``.Files.Get`` and merges in its
templates only what depends on its values (jobs ``postgres`` and ``node`` among them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from plexichat.generate import banner
from plexichat.generate.stack import alertmanager, prometheus
from plexichat.generate.stack.targets import (
    COMPOSE,
    COMPOSE_NODE,
    COMPOSE_POSTGRES,
    HELM,
    StackTarget,
)

HELM_FILES = Path("helm/plexichat-observability/files")
DIRECTORIES = (
    Path("compose/prometheus"),
    Path("compose/alertmanager"),
    HELM_FILES / "prometheus",
    HELM_FILES / "alertmanager",
)
"""Where these files go (the writer looks there for leftovers)."""


def _yaml(data: Any, target: StackTarget, about: str) -> str:
    header = f"# {banner.stack_text(target.name)}\n"
    header += "".join(f"# {line}\n" for line in about.splitlines())
    return header + yaml.safe_dump(data, sort_keys=False, width=1000)


def _command(service: str, args: list[str]) -> dict[str, Any]:
    return {"services": {service: {"command": args}}}


def render() -> dict[str, str]:
    """``{path relative to the repository: text}`` of every stack configuration file."""
    compose, helm = Path("compose"), HELM_FILES
    return {
        (compose / "prometheus" / "prometheus.yml").as_posix(): _yaml(
            prometheus.config(COMPOSE),
            COMPOSE,
            "Prometheus of the Compose stack: scrapes the service, itself, Alertmanager and\n"
            "redis_exporter every 15 s and evaluates the generated rules (../../alerts,\n"
            "mounted at rules/).",
        ),
        (compose / "prometheus" / "prometheus-postgres.yml").as_posix(): _yaml(
            prometheus.config(COMPOSE_POSTGRES),
            COMPOSE_POSTGRES,
            "Prometheus of the Compose stack with PostgreSQL (docker-compose.postgres.yml\n"
            "mounts it instead of prometheus.yml): the same, and postgres_exporter as job\n"
            "postgres.",
        ),
        (compose / "prometheus" / "prometheus-node.yml").as_posix(): _yaml(
            prometheus.config(COMPOSE_NODE),
            COMPOSE_NODE,
            "Prometheus of the Compose stack with node_exporter (docker-compose.node.yml mounts\n"
            "it instead of prometheus.yml): the same, and node_exporter as job node.",
        ),
        (compose / "prometheus" / "command.yml").as_posix(): _yaml(
            _command("prometheus", prometheus.flags(COMPOSE)),
            COMPOSE,
            "Prometheus' command line; docker-compose.yml's prometheus service extends this one.",
        ),
        (compose / "alertmanager" / "alertmanager.yml").as_posix(): _yaml(
            alertmanager.config(COMPOSE),
            COMPOSE,
            "Alertmanager of the Compose stack: every alert goes to the `receiver` service\n"
            "(`docker compose logs -f receiver`), the always-firing Watchdog every minute to its\n"
            "/watchdog path. To notify your own system, and send the Watchdog to a dead-man's\n"
            "switch, mount your own alertmanager.yml in a docker-compose.override.yml.",
        ),
        (compose / "alertmanager" / "command.yml").as_posix(): _yaml(
            _command("alertmanager", alertmanager.flags(COMPOSE)),
            COMPOSE,
            "Alertmanager's command line; docker-compose.yml's alertmanager service extends it.",
        ),
        (helm / "prometheus" / "prometheus.yml").as_posix(): _yaml(
            prometheus.config(HELM),
            HELM,
            "templates/prometheus/configmap.yaml adds what depends on the values: the intervals,\n"
            "the service's discovery, Alertmanager, remote write.",
        ),
        (helm / "prometheus" / "args.yaml").as_posix(): _yaml(
            prometheus.flags(HELM),
            HELM,
            "templates/prometheus/deployment.yaml adds the retention flags from the values.",
        ),
        (helm / "alertmanager" / "alertmanager.yml").as_posix(): _yaml(
            alertmanager.config(HELM),
            HELM,
            "templates/alertmanager/configmap.yaml adds the webhooks of alertmanager.webhookUrl\n"
            "and alertmanager.watchdogUrl (the Watchdog's dead-man's switch).",
        ),
        (helm / "alertmanager" / "args.yaml").as_posix(): _yaml(
            alertmanager.flags(HELM), HELM, "templates/alertmanager/deployment.yaml uses these."
        ),
    }
