"""The guide's other spellings of canonical sections, and the check of a source's top level.

The guide writes some sections at the top level of a file (``memory_cache:``, ``database:``...).
Each is accepted as an alias of its canonical place under ``performance:``. Within one source a
key may be given through one spelling only: giving it through two is an error naming both.

A renamed top-level key's old name (``RENAMED``) is read as the new one, with a
``DeprecatedKeyWarning`` naming the source and both keys; one source giving both names is an
error naming both.
"""

import difflib
import warnings
from collections.abc import Mapping
from typing import Any

from plexichat.config.errors import ConfigError, DeprecatedKeyWarning
from plexichat.config.settings import KEY_SECTIONS, Settings
from plexichat.config.tree import Tree, dotted, leaves, merge, nest

ALIASES: Mapping[str, tuple[str, ...]] = {
    "latency_optimizer": ("performance", "latency_optimizer"),
    "caching": ("performance", "caching"),
    "memory_cache": ("performance", "caching", "memory_cache"),
    "redis_cache": ("performance", "caching", "redis_cache"),
    "query_cache": ("performance", "caching", "query_cache"),
    "database": ("performance", "database"),
    "api": ("performance", "api"),
    "background_tasks": ("performance", "background_tasks"),
    "metrics": ("performance", "metrics"),
}
"""Top-level key of the guide -> its canonical key path."""

RENAMED: Mapping[str, str] = {"chaos": "faults"}
"""Deprecated old name of a top-level key -> its name now."""

Spellings = dict[tuple[str, ...], str]
"""Canonical key path -> the alias a source used for it (to report keys as the user wrote them)."""

_METADATA = frozenset(Settings.model_fields) - set(KEY_SECTIONS)


def canonicalize(tree: Mapping[Any, Any], source: str) -> tuple[Tree, Spellings]:
    """Return ``tree`` with every alias moved to its canonical place, and the aliases used.

    Raises ``ConfigError`` for an unknown top-level key, a key given through two spellings or
    a renamed key given under both names.
    """
    canonical: Tree = {}
    spellings: Spellings = {}
    given: list[tuple[tuple[str, ...], str, str]] = []  # (canonical path, spelled path, top key)
    for key, value in tree.items():
        prefix = _place(key, source)
        if key in RENAMED and RENAMED[key] in tree:
            raise ConfigError(
                source,
                f"'{key}' and '{RENAMED[key]}' both given "
                f"(expected '{RENAMED[key]}' only: '{key}' is its deprecated old name)",
            )
        if prefix != (key,):
            spellings[prefix] = key
        for leaf in leaves(value) if isinstance(value, Mapping) else [()]:
            path, spelled = (*prefix, *leaf), dotted((key, *leaf))
            for other, other_spelled, other_key in given:
                overlap = min(len(path), len(other))
                if other_key != key and path[:overlap] == other[:overlap]:
                    raise ConfigError(
                        source,
                        f"'{other_spelled}' and '{spelled}' both set "
                        f"{dotted(path[:overlap])} (expected one spelling)",
                    )
            given.append((path, spelled, key))
        canonical = merge(canonical, nest(prefix, value))
    return canonical, spellings


def warn_renamed(spellings: Spellings, source: str) -> None:
    """Warn of each deprecated old name among the ``spellings`` that ``source`` used."""
    for alias in spellings.values():
        if alias in RENAMED:
            warnings.warn(
                f"{source}: key '{alias}' is deprecated, renamed '{RENAMED[alias]}' "
                "(its settings still apply; rename it)",
                DeprecatedKeyWarning,
                stacklevel=3,
            )


def _place(key: object, source: str) -> tuple[str, ...]:
    if isinstance(key, str) and key in KEY_SECTIONS:
        return (key,)
    if isinstance(key, str) and key in RENAMED:
        return (RENAMED[key],)
    if isinstance(key, str) and key in ALIASES:
        return ALIASES[key]
    if key in _METADATA:
        raise ConfigError(
            source,
            f"unknown key '{key}' (it is set by the loader, not by configuration; choose a "
            "profile with PLEXICHAT_PROFILE or load_settings(profile=...))",
        )
    known = [*KEY_SECTIONS, *ALIASES]
    close = difflib.get_close_matches(str(key), known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"expected one of {', '.join(known)}"
    raise ConfigError(source, f"unknown key '{key}' ({hint})")
