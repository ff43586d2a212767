"""``/api/users``: register a user, fetch one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status
from sqlalchemy.exc import IntegrityError

from plexichat.service import writes
from plexichat.service.dependencies import SessionDep, StateDep
from plexichat.service.schemas import MAX_ID, UserCreate, UserOut

router = APIRouter(prefix="/users", tags=["users"])

UserId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={status.HTTP_409_CONFLICT: {"description": "The username is taken."}},
)
async def register_user(body: UserCreate, state: StateDep) -> UserOut:
    """Register a user: 201 with the profile, 409 when the username is taken."""
    with state.metrics.timer("user_register"):
        try:
            user = await state.writer.run(writes.register(body.username, body.display_name))
        except IntegrityError:
            raise HTTPException(
                status.HTTP_409_CONFLICT, f"username {body.username!r} is taken"
            ) from None
        state.metrics.increment_counter("user_registrations")
        profile = UserOut.model_validate(user)
        await state.cache.user_created(profile.model_dump(mode="json"))
        return profile


@router.get(
    "/{user_id}",
    response_model=UserOut,
    responses={status.HTTP_404_NOT_FOUND: {"description": "No such user."}},
)
async def get_user(user_id: UserId, session: SessionDep, state: StateDep) -> dict[str, Any]:
    """The user's profile, through the cache (``user:{id}``)."""
    user = await state.cache.user(session, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"user {user_id} does not exist")
    return user  # as cached: response_model validates and serialises it once
