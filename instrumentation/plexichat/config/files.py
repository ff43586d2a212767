"""Configuration files: the packaged defaults, the profiles, and reading YAML strictly."""

from pathlib import Path
from typing import Any

import yaml

from plexichat.catalog.model import PROFILES
from plexichat.config.errors import ConfigError
from plexichat.config.tree import Tree

DEFAULTS_DIR = Path(__file__).with_name("defaults")
"""The packaged ``performance.yaml`` and ``<profile>/performance.yaml`` files (``config/`` in a
checkout is a symlink to this directory)."""
DEFAULTS_FILE = DEFAULTS_DIR / "performance.yaml"


def profiles() -> list[str]:
    """The profiles (``PROFILES``, defined with the catalog's per-profile thresholds), each with
    a packaged ``<profile>/performance.yaml``: ``['development', 'production']``."""
    return list(PROFILES)


def profile_file(profile: str, source: str) -> Path:
    """The packaged file of ``profile``; ``source`` names where the profile name came from."""
    if profile not in profiles():
        expected = " or ".join(repr(name) for name in profiles())
        raise ConfigError(source, f"unknown profile {profile!r} (expected {expected})")
    return DEFAULTS_DIR / profile / "performance.yaml"


def read_yaml(path: Path, source: str | None = None) -> Tree:
    """The mapping at the top of the YAML file ``path`` (an empty file is an empty mapping).

    A missing file, a YAML syntax error, a key given twice in one mapping or a top level that is
    not a mapping is a ``ConfigError`` naming the file.
    """
    source = source or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(source, f"cannot read the file ({error.strerror or error})") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader
    except yaml.YAMLError as error:
        raise ConfigError(source, f"not valid YAML: {yaml_problem(error)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        found = type(data).__name__
        raise ConfigError(source, f"expected a mapping of keys at the top, got a {found}")
    return data


def yaml_problem(error: yaml.YAMLError) -> str:
    """A one-line account of a YAML error: what and where (``line 3, column 1``)."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem} (line {mark.line + 1}, column {mark.column + 1})"
    return str(error)


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key given twice in a mapping is an error (PyYAML
    keeps the last one silently, which hides a pasted section)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                given_twice = key in seen
            except TypeError:  # an unhashable key: PyYAML's own check below reports it
                continue
            if given_twice:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)
