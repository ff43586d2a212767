"""Safe cache serialisation: JSON, never pickle.

Values read back from Redis come from the network, so they are decoded as data, never as code.
Besides JSON's own types, ``datetime``, ``date``, ``bytes``, ``tuple`` and ``set`` round-trip
(as tagged objects); Pydantic models and dataclasses are stored as their fields (they come back
as dicts). Anything else raises ``TypeError`` naming the type, at ``set`` time.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import date, datetime
from typing import Any

_TAG = "__plexichat__"


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, bytes):
        return {_TAG: "bytes", "v": base64.b64encode(value).decode("ascii")}
    if isinstance(value, set | frozenset):
        return {_TAG: "set", "v": sorted(value, key=repr)}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "_asdict"):  # SQLAlchemy Row, namedtuple
        return dict(value._asdict())
    raise TypeError(
        f"cannot cache a {type(value).__qualname__}: cache values are stored as JSON "
        "(dict, list, str, int, float, bool, None, datetime, date, bytes, tuple, set, "
        "Pydantic models, dataclasses)"
    )


def _tuples(value: Any) -> Any:
    if isinstance(value, tuple) and not hasattr(value, "_asdict"):
        return {_TAG: "tuple", "v": [_tuples(v) for v in value]}
    if isinstance(value, list):
        return [_tuples(v) for v in value]
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def _hook(obj: dict[str, Any]) -> Any:
    tag = obj.get(_TAG)
    if tag is None or len(obj) != 2:
        return obj
    raw = obj["v"]
    if tag == "datetime":
        return datetime.fromisoformat(raw)
    if tag == "date":
        return date.fromisoformat(raw)
    if tag == "bytes":
        return base64.b64decode(raw)
    if tag == "tuple":
        return tuple(raw)
    if tag == "set":
        return set(raw)
    return obj


def dumps(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON bytes."""
    plain = value if isinstance(value, str | int | float | bool | None) else _tuples(value)
    return json.dumps(plain, default=_default, separators=(",", ":")).encode()


def loads(data: bytes) -> Any:
    """The value ``dumps`` encoded."""
    return json.loads(data, object_hook=_hook)
