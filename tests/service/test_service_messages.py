"""``POST /api/messages``, and that a rejected write leaves nothing behind."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from plexichat.service.models import Message
from plexichat.service.state import STATE_KEY

if TYPE_CHECKING:
    from tests.service.conftest import RecordingMetrics


async def _message_count(app: FastAPI) -> int:
    async with getattr(app.state, STATE_KEY).database.sessions() as session:
        return int(await session.scalar(select(func.count(Message.id))) or 0)


async def test_send_message(
    client: httpx.AsyncClient, app: FastAPI, metrics: RecordingMetrics
) -> None:
    before = await _message_count(app)
    response = await client.post(
        "/api/messages", json={"sender_id": 1, "recipient_id": 2, "body": "hello"}
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["sender_id"], body["recipient_id"], body["body"]) == (1, 2, "hello")
    assert await _message_count(app) == before + 1
    assert metrics.counters["messages_sent"] == 1


async def test_unknown_user_is_422_naming_the_field_and_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, metrics: RecordingMetrics
) -> None:
    before = await _message_count(app)
    for payload, field in (
        ({"sender_id": 1, "recipient_id": 424242, "body": "x"}, "recipient_id"),
        ({"sender_id": 424242, "recipient_id": 1, "body": "x"}, "sender_id"),
    ):
        response = await client.post("/api/messages", json=payload)
        assert response.status_code == 422
        error = response.json()["detail"][0]
        assert error["loc"] == ["body", field]
        assert error["msg"] == "user 424242 does not exist"
    assert await _message_count(app) == before
    assert metrics.counters["messages_sent"] == 0


async def test_invalid_message_bodies_are_422(client: httpx.AsyncClient) -> None:
    for payload, field in (
        ({"sender_id": 1, "recipient_id": 2, "body": ""}, "body"),
        ({"sender_id": 1, "recipient_id": 2, "body": "x" * 2001}, "body"),
        ({"sender_id": 0, "recipient_id": 2, "body": "x"}, "sender_id"),
        ({"sender_id": 1, "body": "x"}, "recipient_id"),
    ):
        response = await client.post("/api/messages", json=payload)
        assert response.status_code == 422, payload
        assert response.json()["detail"][0]["loc"][-1] == field
    malformed = await client.post(
        "/api/messages", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
