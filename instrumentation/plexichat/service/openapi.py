"""The service's OpenAPI document: every status an operation can answer, exact integer bounds.

FastAPI documents what a route declares. The layers around the routes answer too, and a client
(or ``schemathesis``, ``tests/service/test_contract.py``) must find those statuses in the
contract: 400 (a body that is not JSON, or not UTF-8 -- FastAPI's parser), 413 (the body limit,
``api.max_request_size``), 429 (the rate limit, with ``Retry-After``) and 504
(``api.request_timeout``); the last three are plain text.

FastAPI's OpenAPI models type ``maximum``/``minimum`` as floats, so the ids' bound 2^63-1 came
out as ``9.223372036854776e+18`` (which is 2^63: ids above the real bound were schema-valid
yet refused). Integer schemas get their bounds back as integers here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from plexichat.service.schemas import MAX_ID

_PLAIN = {"text/plain": {"schema": {"type": "string"}}}
_JSON_DETAIL = {
    "application/json": {
        "schema": {
            "type": "object",
            "properties": {"detail": {}},
            "required": ["detail"],
        }
    }
}
MIDDLEWARE_RESPONSES: dict[str, dict[str, Any]] = {
    "400": {"description": "The body is not valid JSON (or not UTF-8).", "content": _JSON_DETAIL},
    "413": {"description": "The body is larger than api.max_request_size.", "content": _PLAIN},
    "429": {
        "description": "Rate limited (api.rate_limiting); retry after Retry-After seconds.",
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}},
        "content": _PLAIN,
    },
    "504": {"description": "Not answered within api.request_timeout.", "content": _PLAIN},
}
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _integer_bounds(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") == "integer":
            for key in _BOUNDS:
                value = node.get(key)
                if isinstance(value, float):
                    node[key] = MAX_ID if value == float(MAX_ID) else int(value)
        for child in node.values():
            _integer_bounds(child)
    elif isinstance(node, list):
        for child in node:
            _integer_bounds(child)


def document(app: FastAPI) -> dict[str, Any]:
    """Build (once) and return ``app``'s OpenAPI document with the fixes above."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, response in MIDDLEWARE_RESPONSES.items():
                responses.setdefault(status, response)
    _integer_bounds(schema)
    app.openapi_schema = schema
    return schema


def install(app: FastAPI) -> None:
    """Serve :func:`document` as ``app``'s ``/openapi.json``."""
    app.openapi = lambda: document(app)  # type: ignore[method-assign]
