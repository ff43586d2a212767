"""FastAPI dependencies: the service state, a database session, the ``api_calls`` counter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, cast

from fastapi import Depends, HTTPException, Request
from sqlalchemy.ext.asyncio import AsyncSession

from plexichat.service.state import STATE_KEY, ServiceState


def _get_state(request: Request) -> ServiceState:
    return cast(ServiceState, getattr(request.app.state, STATE_KEY))


StateDep = Annotated[ServiceState, Depends(_get_state)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """A session per request; whatever it did not commit is rolled back when it closes."""
    async with state.database.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def count_api_call(state: StateDep) -> None:
    """Count one ``api_calls`` per request that reaches an ``/api`` route."""
    state.metrics.increment_counter("api_calls")


def unknown_reference(field: str, what: str, value: int) -> HTTPException:
    """A 422 shaped like FastAPI's validation errors, for a body field naming a missing row."""
    return HTTPException(
        status_code=422,
        detail=[
            {
                "loc": ["body", field],
                "msg": f"{what} {value} does not exist",
                "type": "not_found",
                "input": value,
            }
        ],
    )
