"""compose/image-facts.yaml: what each pinned image provides, and what the bundles ask of it.

The facts are read for one tag of each image. ``pins()`` finds every image reference the
repository pins (compose/.env, the chart's values, the Dockerfile); ``stale_pins`` tells which of
them name a tag with no facts. ``commands`` lists the programs a shell snippet runs, so a health
check, probe or entrypoint script can be held against the image's ``shell`` and ``executables``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bashlex
import yaml

ROOT = Path(__file__).resolve().parents[2]
FACTS_FILE = ROOT / "compose" / "image-facts.yaml"
FACT_NAMES = ("shell", "executables", "program", "user", "owned_dirs", "writes")
SHELL_BUILTINS = frozenset(
    {"set", "exec", "export", "printf", "echo", "test", "[", "cd", "true", "false", ":"}
)
"""Commands every POSIX shell runs itself (dash and busybox ash both have printf and test)."""


@dataclass(frozen=True)
class Fact:
    value: Any
    source: str


@dataclass(frozen=True)
class Pin:
    reference: str  # repository:tag
    where: str  # the file and key that pin it

    @property
    def repository(self) -> str:
        return self.reference.rpartition(":")[0]


Facts = dict[str, Fact]


@functools.cache
def facts() -> dict[str, Facts]:
    """Image reference -> its facts, a ``base`` image's facts merged in underneath."""
    raw: dict[str, dict[str, Any]] = yaml.safe_load(FACTS_FILE.read_text())
    result: dict[str, Facts] = {}
    for reference, entry in raw.items():
        merged: Facts = {}
        base = entry.get("base")
        if base is not None:
            merged.update(facts_of(raw, base))
        merged.update(facts_of(raw, reference))
        missing = set(FACT_NAMES) - set(merged)
        assert not missing, f"{FACTS_FILE.name}: {reference} lacks {sorted(missing)}"
        result[reference] = merged
    return result


def facts_of(raw: dict[str, dict[str, Any]], reference: str) -> Facts:
    entry = raw[reference]
    return {
        name: Fact(entry[name]["value"], entry[name]["source"])
        for name in FACT_NAMES
        if name in entry
    }


def user_ids(image: Facts) -> tuple[int, int]:
    uid, _, gid = str(image["user"].value).partition(":")
    return int(uid), int(gid)


def has_executable(image: Facts, command: str) -> bool:
    executables = image["executables"].value
    return command in executables or command.rsplit("/", 1)[-1] in executables


def pins() -> list[Pin]:
    """Every image reference pinned in compose/.env, the chart's values.yaml and the Dockerfile."""
    found = []
    for line in (ROOT / "compose" / ".env").read_text().splitlines():
        key, equals, value = line.partition("=")
        if equals and key.strip().endswith("_IMAGE") and not line.lstrip().startswith("#"):
            found.append(Pin(value.strip(), f"compose/.env {key.strip()}"))
    chart = ROOT / "helm" / "plexichat-observability"
    values = yaml.safe_load((chart / "values.yaml").read_text())
    app_version = yaml.safe_load((chart / "Chart.yaml").read_text())["appVersion"]
    for component, block in values.items():
        image = block.get("image") if isinstance(block, dict) else None
        if image:
            tag = image["tag"] or app_version
            found.append(Pin(f"{image['repository']}:{tag}", f"values.yaml {component}.image"))
    dockerfile = (ROOT / "Dockerfile").read_text()
    python = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert python is not None, "the Dockerfile pins no PYTHON_IMAGE"
    found.append(Pin(python[1], "Dockerfile ARG PYTHON_IMAGE"))
    return found


def stale_pins(pinned: list[Pin], known: dict[str, Facts]) -> list[str]:
    """One message per pin whose tag has no facts, listing the facts to re-read."""
    problems = []
    for pin in pinned:
        if pin.reference in known:
            continue
        read_for = [ref for ref in known if ref.rpartition(":")[0] == pin.repository]
        lines = [
            f"{pin.reference} ({pin.where}) differs from the tag its facts were read for "
            f"({', '.join(read_for) or 'none'}); re-read and update {FACTS_FILE.name}:"
        ]
        for reference in read_for:
            lines += [
                f"  {name} = {fact.value!r} (from {fact.source})"
                for name, fact in known[reference].items()
            ]
        problems.append("\n".join(lines))
    return problems


def commands(script: str) -> list[str]:
    """The programs a shell script runs: the first word of every simple command, including
    those in ``$( )`` substitutions and pipelines (assignments and redirections skipped)."""
    found: list[str] = []

    class Visitor(bashlex.ast.nodevisitor):  # type: ignore[misc]
        def visitcommand(self, node: Any, parts: list[Any]) -> None:
            words = [part.word for part in parts if part.kind == "word"]
            if words and words[0] == "exec" and len(words) > 1:
                words = words[1:]
            if words:
                found.append(words[0])

    for tree in bashlex.parse(script):
        Visitor().visit(tree)
    return found


def shell_problems(image: Facts, script: str, where: str) -> list[str]:
    """What the image lacks to run ``script`` with ``sh -c``."""
    if image["shell"].value is None:
        return [f"{where}: runs a shell script, but the image has no shell"]
    return [
        f"{where}: runs {command!r}, which the image does not have"
        for command in commands(script)
        if command not in SHELL_BUILTINS and not has_executable(image, command)
    ]


def command_problems(image: Facts, argv: list[str], where: str) -> list[str]:
    """What the image lacks to run ``argv`` (exec form, or ``sh -c SCRIPT``)."""
    if argv[0] in ("sh", "/bin/sh") and len(argv) > 2 and argv[1] == "-c":
        return shell_problems(image, argv[2], where)
    if argv[0] in ("sh", "/bin/sh") and image["shell"].value is None:
        return [f"{where}: runs a shell, but the image has no shell"]
    if not has_executable(image, argv[0]):
        return [f"{where}: runs {argv[0]!r}, which the image does not have"]
    return []


def runs_program(image: Facts, argv: list[str] | None) -> bool:
    """Whether a container whose entrypoint/command is ``argv`` (None: the image's own) runs
    the image's long-running ``program`` (directly, or by ``exec`` from a shell script)."""
    if not argv:
        return True
    program = str(image["program"].value)
    words = " ".join(argv).split()
    return any(word == program or word.rsplit("/", 1)[-1] == program for word in words)
