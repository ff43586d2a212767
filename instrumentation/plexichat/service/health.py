"""Probes: ``/healthz`` (the process answers; no database) and ``/readyz`` (``SELECT 1`` works)."""

from __future__ import annotations

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from plexichat.service.dependencies import StateDep
from plexichat.service.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> Health:
    """Liveness: the event loop answers. Never touches the database."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Health}},
)
async def readyz(state: StateDep) -> Health | JSONResponse:
    """Readiness: the database answers ``SELECT 1`` in time; 503 otherwise."""
    if await state.database.ping():
        return Health(status="ready")
    return JSONResponse(
        {"status": "database unavailable"}, status_code=status.HTTP_503_SERVICE_UNAVAILABLE
    )
