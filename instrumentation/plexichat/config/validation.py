"""Validating a raw tree into ``Settings``, and telling pydantic's errors as ``ConfigError``.

The loader validates after merging each source, so a problem is reported against the source
that brought it (earlier sources already validated cleanly).
"""

import difflib
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from plexichat.config.aliases import Spellings
from plexichat.config.errors import ConfigError
from plexichat.config.settings import Settings
from plexichat.config.tree import Tree, dotted


def validate(tree: Tree, source: str, spellings: Spellings | None = None) -> Settings:
    """Return ``Settings`` built from ``tree``; a ``ConfigError`` naming ``source`` if invalid."""
    try:
        return Settings.model_validate(tree)
    except ValidationError as error:
        problems = [_describe(detail, spellings or {}) for detail in error.errors()]
        raise ConfigError(source, problems) from None


def _describe(detail: ErrorDetails, spellings: Spellings) -> str:
    loc = tuple(detail["loc"])
    written, canonical = _as_written(loc, spellings)
    key = written + canonical
    given = detail["input"]
    if detail["type"] == "extra_forbidden":
        return f"unknown key '{written}'{canonical}{_suggestion(loc)}"
    if detail["type"] in ("value_error", "assertion_error"):
        message = detail["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return f"{key}: {message}"
    if detail["type"] in ("model_type", "model_attributes_type", "dict_type"):
        return f"{key}: {_show(given)} is not a section (expected a mapping of keys to values)"
    expected = detail["msg"].removeprefix("Input should be ")
    if expected.startswith(("greater", "less")):
        expected = f"a number {expected}"
    return f"{key}: {_show(given)} is not valid (expected {expected})"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _as_written(loc: tuple[str | int, ...], spellings: Spellings) -> tuple[str, str]:
    """The dotted key as the source wrote it (``memory_cache.ttl``), and `` (= <canonical>)``
    when that was through an alias (else "")."""
    for size in range(len(loc), 0, -1):
        alias = spellings.get(tuple(str(part) for part in loc[:size]))
        if alias is not None:
            return dotted((alias, *loc[size:])), f" (= {dotted(loc)})"
    return dotted(loc), ""


def _suggestion(loc: tuple[str | int, ...]) -> str:
    model: type[BaseModel] = Settings
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return ""
        model = annotation
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
