"""``/api/users``: registration, lookup, and the validation and conflict errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from tests.service.conftest import RecordingMetrics


async def test_register_returns_201_and_the_user(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/users", json={"username": "zoe", "display_name": " Zoe "})
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "zoe"
    assert body["display_name"] == "Zoe"
    assert isinstance(body["id"], int)
    assert body["created_at"].endswith(("Z", "+00:00"))

    fetched = await client.get(f"/api/users/{body['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == body


async def test_duplicate_username_is_409(
    client: httpx.AsyncClient, metrics: RecordingMetrics
) -> None:
    payload = {"username": "zoe", "display_name": "Zoe"}
    assert (await client.post("/api/users", json=payload)).status_code == 201
    response = await client.post("/api/users", json=payload)
    assert response.status_code == 409
    assert "zoe" in response.json()["detail"]
    assert metrics.counters["user_registrations"] == 1


async def test_invalid_registration_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    cases = [
        ({"username": "Not Valid!", "display_name": "x"}, "username"),
        ({"username": "ab", "display_name": "x"}, "username"),
        ({"username": "okname", "display_name": ""}, "display_name"),
        ({"username": "okname", "display_name": "x" * 65}, "display_name"),
        ({"username": "okname"}, "display_name"),
        ({"username": "okname", "display_name": "x", "admin": True}, "admin"),
    ]
    for payload, field in cases:
        response = await client.post("/api/users", json=payload)
        assert response.status_code == 422, payload
        locations = [error["loc"][-1] for error in response.json()["detail"]]
        assert field in locations, (payload, response.json())


async def test_unknown_user_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/users/999999")
    assert response.status_code == 404
    assert "999999" in response.json()["detail"]


async def test_out_of_range_ids_are_422(client: httpx.AsyncClient) -> None:
    for user_id in ("0", "-1", str(2**63), "abc"):
        assert (await client.get(f"/api/users/{user_id}")).status_code == 422, user_id


async def test_api_calls_are_counted_once_per_api_request(
    client: httpx.AsyncClient, metrics: RecordingMetrics
) -> None:
    await client.get("/api/users/1")
    await client.get("/api/users/999999")
    await client.get("/healthz")
    assert metrics.counters["api_calls"] == 2
