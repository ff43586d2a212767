"""The Compose file as `docker compose` reads it: compose/.env, interpolation, bind mounts, and
``docker-compose.postgres.yml`` or ``docker-compose.node.yml`` laid over it (``-f
docker-compose.yml -f docker-compose.postgres.yml``) by Compose's merge rules."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
POSTGRES_FILE = COMPOSE_DIR / "docker-compose.postgres.yml"
NODE_FILE = COMPOSE_DIR / "docker-compose.node.yml"
DATABASE_URL = "postgresql+asyncpg://plexichat:s3cret@db.example:5432/plexichat"
"""``PLEXICHAT_DATABASE_URL`` for the PostgreSQL variant (docker-compose.postgres.yml)."""
REPLACED = frozenset({"command", "entrypoint", "test"})
"""Sequences an override replaces; Compose appends the others, but ``volumes`` by target."""

_VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


def dotenv() -> dict[str, str]:
    """compose/.env: KEY=VALUE lines (Compose reads it from the project directory)."""
    pairs = {}
    for line in (COMPOSE_DIR / ".env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def interpolate(text: str, environ: dict[str, str]) -> str:
    """Compose's ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` and ``$$``."""

    def substitute(match: re.Match[str]) -> str:
        value = environ.get(match["name"], "")
        if match["op"] == ":?" and not value:
            raise AssertionError(f"{match['name']} is required: {match['arg']}")
        if match["op"] == ":-" and not value:
            return match["arg"]
        return value

    return _VARIABLE.sub(substitute, text).replace("$$", "$")


def interpolated(node: Any, environ: dict[str, str]) -> Any:
    """Compose interpolates the string values of the parsed file (so "" stays a string)."""
    if isinstance(node, dict):
        return {key: interpolated(value, environ) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolated(item, environ) for item in node]
    if isinstance(node, str):
        return interpolate(node, environ)
    return node


def resolve_extends(services: dict[str, Any], environ: dict[str, str]) -> None:
    """Compose's ``extends: {file, service}``: the extended service's keys, then the service's
    own (the generated command lines come in this way; no nested extends here)."""
    for name, service in services.items():
        extends = service.pop("extends", None)
        if extends is None:
            continue
        path = COMPOSE_DIR / extends["file"]
        base = interpolated(yaml.safe_load(path.read_text()), environ)["services"]
        services[name] = {**base[extends["service"]], **service}


def _target(volume: str) -> str:
    return volume.split(":")[1] if ":" in volume else volume


def merge(base: Any, override: Any, key: str = "") -> Any:
    """``override`` laid over ``base`` as Compose merges files: mappings key by key, volumes by
    their target path, ``command``/``entrypoint``/``healthcheck.test`` replaced, other
    sequences appended, scalars replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for name, value in override.items():
            merged[name] = merge(base[name], value, name) if name in base else value
        return merged
    if isinstance(base, list) and isinstance(override, list) and key not in REPLACED:
        if key == "volumes":
            replaced = {_target(v) for v in override}
            return [v for v in base if _target(v) not in replaced] + override
        return base + override
    return override


def raw(postgres: bool = False, node: bool = False) -> dict[str, Any]:
    """The Compose file(s) as written: docker-compose.yml, with ``postgres`` the PostgreSQL
    override laid over it, with ``node`` the node_exporter one (no interpolation, no
    ``extends``)."""
    result: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    for wanted, path in ((postgres, POSTGRES_FILE), (node, NODE_FILE)):
        if wanted:
            result = merge(result, yaml.safe_load(path.read_text()))
    return result


def environment(postgres: bool = False) -> dict[str, str]:
    """The variables Compose interpolates: compose/.env, and ``DATABASE_URL`` with PostgreSQL."""
    environ = dotenv()
    if postgres:
        environ["PLEXICHAT_DATABASE_URL"] = DATABASE_URL
    return environ


def document(postgres: bool = False, node: bool = False) -> dict[str, Any]:
    """The Compose file as `docker compose` sees it with compose/.env and no other variables;
    with ``postgres``, ``-f docker-compose.postgres.yml`` too and ``DATABASE_URL`` set; with
    ``node``, ``-f docker-compose.node.yml``."""
    environ = environment(postgres)
    result: dict[str, Any] = interpolated(raw(postgres, node), environ)
    resolve_extends(result["services"], environ)
    return result


def bind_mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source relative to compose/, target) of the service's bind mounts."""
    mounts = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            mounts.append((source, target))
    return mounts
