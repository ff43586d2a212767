"""The smallest instrumented app: FastAPI with ``GET /items/{item_id}``, its own registry."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from plexichat.config import load_settings
from plexichat.observability import MetricRegistry, instrument_app


def items_app(observability: dict[str, Any], **performance: Any) -> FastAPI:
    """The app instrumented with ``performance.observability`` = ``observability`` and the other
    ``performance`` keys given (defaults for the rest, no environment); a fresh
    ``MetricRegistry``, so apps in one test do not share series."""
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    settings = load_settings(
        environ={},
        overrides={"performance": {"observability": observability, **performance}},
    )
    instrument_app(app, settings, registry=MetricRegistry())
    return app
