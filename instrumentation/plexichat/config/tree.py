"""Raw configuration trees: the nested mappings read from YAML, before validation."""

from collections.abc import Iterator, Mapping
from typing import Any

Tree = dict[str, Any]
"""A nested mapping of keys to values or further trees, as YAML loads it."""


def merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> Tree:
    """Return ``base`` with ``top`` laid over it: mappings merge key by key, anything else
    (scalars, lists) in ``top`` replaces what ``base`` had."""
    merged: Tree = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            merged[key] = merge(below, value)
        else:
            merged[key] = value
    return merged


def nest(path: tuple[str, ...], value: Any) -> Tree:
    """The tree holding ``value`` at ``path``: ``nest(("a", "b"), 1) == {"a": {"b": 1}}``."""
    tree: Any = value
    for key in reversed(path):
        tree = {key: tree}
    result: Tree = tree
    return result


def leaves(tree: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Yield the path of every value in ``tree`` that is not a mapping (an empty mapping sets
    nothing, so it yields nothing)."""
    for key, value in tree.items():
        path = (*prefix, str(key))
        if isinstance(value, Mapping):
            yield from leaves(value, path)
        else:
            yield path


def dotted(path: tuple[str | int, ...]) -> str:
    """``("a", "b", 1) -> "a.b[1]"``: how a key path is written in messages."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")
