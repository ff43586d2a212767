"""``/api/messages``: send a direct message."""

from __future__ import annotations

from fastapi import APIRouter, status

from plexichat.service import writes
from plexichat.service.dependencies import SessionDep, StateDep, unknown_reference
from plexichat.service.schemas import MessageCreate, MessageOut

router = APIRouter(prefix="/messages", tags=["messages"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "Invalid body, or sender/recipient does not exist."}},
)
async def send_message(body: MessageCreate, session: SessionDep, state: StateDep) -> MessageOut:
    """Send a direct message: 201 with the message, 422 when the sender or recipient does not
    exist."""
    with state.metrics.timer("message_send"):
        for field, user_id in (("sender_id", body.sender_id), ("recipient_id", body.recipient_id)):
            if await state.cache.user(session, user_id) is None:
                raise unknown_reference(field, "user", user_id)
        message = await state.writer.run(
            writes.send_message(body.sender_id, body.recipient_id, body.body)
        )
        state.metrics.increment_counter("messages_sent")
        state.active_users.touch(body.sender_id)
        return MessageOut.model_validate(message)
