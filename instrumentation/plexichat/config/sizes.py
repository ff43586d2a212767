"""Byte sizes as the guide writes them: ``256MB``, ``"1GB"``, ``500MB`` or a plain number of bytes.

Units are binary, as in the design (``../shared/DESIGN.md``, beside the checkout): ``KB``, ``K``
and ``KiB`` all mean 1024 bytes, ``MB`` means 1024**2, and so on up to ``TB``. A unit is
case-insensitive and may follow a space; the number may have a fraction (``1.5GB``), the result
is rounded down to whole bytes.
"""

import re
from typing import Annotated

from pydantic import BeforeValidator

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

_UNITS = {
    "": 1,
    "b": 1,
    "k": KiB,
    "kb": KiB,
    "kib": KiB,
    "m": MiB,
    "mb": MiB,
    "mib": MiB,
    "g": GiB,
    "gb": GiB,
    "gib": GiB,
    "t": TiB,
    "tb": TiB,
    "tib": TiB,
}
_SIZE = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>[a-z]*)", re.IGNORECASE)
_EXPECTED = "expected e.g. 256MB, 1GB or a number of bytes"


def parse_size(text: str | int) -> int:
    """Return the number of bytes that ``text`` (``"256MB"``, ``"1 GiB"``, ``1024``) stands for.

    Raises ``ValueError`` naming the value when it is not a size.
    """
    if isinstance(text, bool):  # bool is an int subclass; `true` is never a size
        raise ValueError(f"{text!r} is not a size ({_EXPECTED})")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"{text!r} is not a size (a size cannot be negative)")
        return text
    if isinstance(text, str):
        match = _SIZE.fullmatch(text.strip())
        if match is not None and match["unit"].lower() in _UNITS:
            return int(float(match["number"]) * _UNITS[match["unit"].lower()])
    raise ValueError(f"{text!r} is not a size ({_EXPECTED})")


def _size_or_passthrough(value: object) -> object:
    if isinstance(value, str | int):
        return parse_size(value)
    return value  # let pydantic report the wrong type (a list, a mapping)


ByteSize = Annotated[int, BeforeValidator(_size_or_passthrough)]
"""A field type: accepts anything :func:`parse_size` does and holds the number of bytes."""
