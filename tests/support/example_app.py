"""The README's example app, for servers that tests start themselves (``uvicorn --workers``,
``gunicorn``): configuration from the environment (``PLEXICHAT_*``), as in production."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI

from plexichat.config import load_settings
from plexichat.observability import instrument_app

app = FastAPI(
    telemetry={
        "tracing": False,
        "metrics": False,
        "logs": False,
        "operation_spans": False,
        "auto_configure": False,
    }
)


@app.get("/hello/{name}")
async def hello(name: str) -> dict[str, str]:
    return {"hello": name}


@app.get("/slow")
async def slow() -> dict[str, bool]:
    """Stays in flight for 50 ms, so that scrapes and kills find requests active."""
    await asyncio.sleep(0.05)
    return {"slow": True}


instrument_app(app, load_settings())
