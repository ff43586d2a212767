"""Which configuration keys hold text: their ``PLEXICHAT_*`` variables are taken verbatim.

A variable's value is text already. Reading it as YAML would turn a password such as
``123456`` into a number, ``&secret`` into ``None`` (an anchor with nothing after it) and
``p@ss word #1`` into ``p@ss word`` (a comment), so a key whose type is text takes the
variable's characters unchanged. The key's type is read from the settings model at its
canonical place (after the guide's aliases are resolved): ``str``, ``Path``, a ``Literal`` of
strings, or any of those or ``None`` is text; numbers, booleans, sizes, lists and mappings are
not, and their variables keep YAML parsing (``false``, ``12``, ``256MB``, ``[a, b]``).
"""

import types
import typing
from pathlib import PurePath
from typing import Any, Literal, Union

from pydantic import BaseModel

from plexichat.config.settings import Settings


def is_text_key(path: tuple[str, ...]) -> bool:
    """Whether the canonical key ``path`` (``("service", "host")``) holds text.

    A path that names no key, or names a section, is not text (the loader reports it).
    """
    annotation: Any = Settings
    for part in path:
        annotation = _child(annotation, part)
        if annotation is None:
            return False
    return _is_text(annotation)


def _child(annotation: Any, part: str) -> Any:
    """The type one level below ``annotation`` at key ``part``, or None when there is none."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(part)
        return None if field is None else field.annotation
    if typing.get_origin(annotation) is dict:  # a mapping's values, whatever the key
        return typing.get_args(annotation)[1]
    return None


def _is_text(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_text(typing.get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        return bool(members) and all(_is_text(member) for member in members)
    if origin is Literal:
        return all(isinstance(value, str) for value in typing.get_args(annotation))
    return annotation is str or (isinstance(annotation, type) and issubclass(annotation, PurePath))
