"""The Compose file as `docker compose` reads it: compose/.env, interpolation, bind mounts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_DIR = ROOT / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"

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


def document() -> dict[str, Any]:
    """The Compose file as `docker compose` sees it with compose/.env and no other variables."""
    environ = dotenv()
    result: dict[str, Any] = interpolated(yaml.safe_load(COMPOSE_FILE.read_text()), environ)
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
