"""Render every artifact, write it, and ``check`` that what is committed is fresh.

``render`` returns ``{relative path: text}`` for one ``Options``. ``write`` puts the texts under
a root, touching only files whose bytes change. ``check`` renders into a temporary directory
and compares byte for byte with the root, naming every stale, missing or leftover file (a
generated file, by its banner, that the generator no longer makes).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from plexichat.generate import (
    banner,
    dependencies,
    optional,
    readme,
    recording,
    rules,
    ruleyaml,
    runbooks,
    slo,
    watchers,
)
from plexichat.generate.dashboards import DASHBOARDS, source
from plexichat.generate.options import Options
from plexichat.generate.stack import files as stack_files

HELM_FILES = Path("helm/plexichat-observability/files")
RULE_FILES = {
    "alerts": rules.groups,
    "recording": recording.groups,
    "slo": slo.groups,
    "stack": watchers.groups,
    "dependencies": dependencies.groups,
}
"""``alerts/<name>.yaml`` -> the function making its groups."""
GENERATED_DIRS = (
    "dashboards",
    "alerts",
    HELM_FILES / "dashboards",
    HELM_FILES / "rules",
    *stack_files.DIRECTORIES,
)
OPTIONAL_DIRS = (Path(optional.DIRECTORY), HELM_FILES / optional.DIRECTORY)
"""Where each optional source's directory of files is generated (``optional/<job>/``)."""


def rule_texts(options: Options) -> dict[str, str]:
    """``{file name: YAML text}`` of every rule file (``alerts.yaml``, ...) for ``options``,
    and ``<job>.yaml`` for each optional source they generate for (``plexichat-obs up``)."""
    texts = {
        f"{name}.yaml": ruleyaml.render(groups(options), options.profile)
        for name, groups in RULE_FILES.items()
    }
    for job in options.optional_jobs:
        texts[f"{job}.yaml"] = ruleyaml.render(optional.groups(options, job), options.profile)
    return texts


def _json(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def optional_files(options: Options) -> dict[str, str]:
    """``{optional/<job>/<file>: text}``: each optional source's rule file and dashboard,
    which a bundle adds where it runs the source (:mod:`plexichat.generate.optional`)."""
    every = options.with_every_source()
    files: dict[str, str] = {}
    for job in every.optional_jobs:
        rules = ruleyaml.render(optional.groups(every, job), every.profile)
        files[f"{optional.DIRECTORY}/{job}/{optional.RULES}"] = rules
        files[f"{optional.DIRECTORY}/{job}/{optional.DASHBOARD}"] = _json(source.build(every, job))
    return files


def render(options: Options, root: Path) -> dict[str, str]:
    """Every generated file for ``options``, as ``{path relative to root: text}``; ``root``
    supplies the README the table is spliced into."""
    files: dict[str, str] = {}
    for name, build in DASHBOARDS.items():
        text = _json(build(options))
        files[f"dashboards/{name}.json"] = text
        files[(HELM_FILES / "dashboards" / f"{name}.json").as_posix()] = text
    for name, text in rule_texts(options).items():
        files[f"alerts/{name}"] = text
        files[(HELM_FILES / "rules" / name).as_posix()] = text
    for relative, text in optional_files(options).items():
        files[relative] = text
        files[(HELM_FILES / relative).as_posix()] = text
    files.update(stack_files.render())
    files["docs/runbooks.md"] = runbooks.render(options)
    current = root / "README.md"
    if current.is_file():
        files["README.md"] = readme.splice(current.read_text(encoding="utf-8"), options)
    return files


def write(files: dict[str, str], root: Path) -> list[str]:
    """Write ``files`` under ``root``; return the paths whose content changed."""
    changed: list[str] = []
    for relative, text in sorted(files.items()):
        path = root / relative
        data = text.encode("utf-8")
        if path.is_file() and path.read_bytes() == data:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        changed.append(relative)
    return changed


def leftovers(files: dict[str, str], root: Path) -> list[str]:
    """Generated files (by banner) in the generated directories that ``files`` lacks."""
    found: list[str] = []
    directories: list[str | Path] = list(GENERATED_DIRS)
    directories += [d for top in OPTIONAL_DIRS for d in sorted((root / top).glob("*"))]
    for directory in directories:
        for path in sorted((root / directory).glob("*")):
            relative = path.relative_to(root).as_posix()
            if path.is_file() and relative not in files and _has_banner(path):
                found.append(relative)
    return found


def _has_banner(path: Path) -> bool:
    try:
        return banner.is_generated(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return False


def check(options: Options, root: Path) -> list[str]:
    """Stale files under ``root``, as sentences (empty when everything is fresh)."""
    files = render(options, root)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="plexichat-generate-") as tmp:
        write(files, Path(tmp))
        for relative in sorted(files):
            fresh = (Path(tmp) / relative).read_bytes()
            committed = root / relative
            if not committed.is_file():
                problems.append(f"{relative}: missing")
            elif committed.read_bytes() != fresh:
                problems.append(f"{relative}: stale (differs from a fresh generation)")
    problems += [f"{path}: no longer generated (delete it)" for path in leftovers(files, root)]
    return problems
