"""``python -m benchmarks.stub PORT``: the cheapest server that speaks loadgen's mix, for
measuring the load generator's own ceiling (``scripts/bench capacity --generator``).

A raw ASGI app under uvicorn (uvloop, httptools): POST answers 201 ``{"id": 1}``, anything
else 200 ``[]``; no framework, no database. Many thousands of requests a second on one core,
so the generator, not this, is what runs out.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

_CREATED = b'{"id": 1, "username": "x"}'
_LISTED = b"[]"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:  # drain the body
        more = (await receive()).get("more_body", False)
    post = scope["method"] == "POST"
    body = _CREATED if post else _LISTED
    await send(
        {
            "type": "http.response.start",
            "status": 201 if post else 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


if __name__ == "__main__":
    uvicorn.run(
        app, host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
        log_level="warning", access_log=False,
    )  # fmt: skip
