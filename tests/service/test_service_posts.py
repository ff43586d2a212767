"""Posts and comments: the one-statement listing, popular posts, writes and their errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event

from plexichat.service.state import STATE_KEY


@contextmanager
def recorded_statements(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements the app's engine executes inside the block."""
    engine = getattr(app.state, STATE_KEY).database.engine.sync_engine
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def _register(client: httpx.AsyncClient, name: str) -> int:
    response = await client.post("/api/users", json={"username": name, "display_name": name})
    assert response.status_code == 201
    return int(response.json()["id"])


async def _post(client: httpx.AsyncClient, user_id: int, title: str) -> int:
    response = await client.post(
        "/api/posts", json={"user_id": user_id, "title": title, "body": "text"}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _comment(client: httpx.AsyncClient, post_id: int, user_id: int) -> httpx.Response:
    return await client.post(
        f"/api/posts/{post_id}/comments", json={"user_id": user_id, "body": "hi"}
    )


async def test_user_posts_newest_first_with_username_and_comment_count(
    client: httpx.AsyncClient,
) -> None:
    author = await _register(client, "writer")
    reader = await _register(client, "reader")
    first = await _post(client, author, "first")
    second = await _post(client, author, "second")
    for _ in range(3):
        assert (await _comment(client, first, reader)).status_code == 201

    response = await client.get(f"/api/users/{author}/posts")
    assert response.status_code == 200
    posts = response.json()
    assert [p["id"] for p in posts] == [second, first]
    assert [p["comment_count"] for p in posts] == [0, 3]
    assert {p["username"] for p in posts} == {"writer"}

    limited = await client.get(f"/api/users/{author}/posts", params={"limit": 1})
    assert [p["id"] for p in limited.json()] == [second]


async def test_user_posts_is_one_statement(client: httpx.AsyncClient, app: FastAPI) -> None:
    # user 1 is alice from the demo data, with three posts and comments on two of them;
    # limit 50 is served from the 100-post listing, which start-up does not warm: a miss
    with recorded_statements(app) as statements:
        response = await client.get("/api/users/1/posts", params={"limit": 50})
    assert response.status_code == 200
    assert [p["comment_count"] for p in response.json()] == [3, 1, 0]
    assert len(statements) == 1, statements
    with recorded_statements(app) as cached:
        assert (await client.get("/api/users/1/posts", params={"limit": 50})).status_code == 200
        assert (await client.get("/api/users/1/posts", params={"limit": 30})).status_code == 200
    assert cached == []
    # no aggregation over the comments: the count is the column the writes keep
    sql = " ".join(statements[0].upper().split())
    for clause in ("JOIN USERS", "ORDER BY", "LIMIT"):
        assert clause in sql, sql
    for clause in ("COMMENTS", "COUNT(", "GROUP BY"):
        assert clause not in sql, sql


async def test_user_posts_limits_are_bounded(client: httpx.AsyncClient) -> None:
    for limit in (0, 101, -5):
        response = await client.get("/api/users/1/posts", params={"limit": limit})
        assert response.status_code == 422, limit
        assert response.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_user_posts_of_unknown_user_is_404_and_of_silent_user_is_empty(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/api/users/999999/posts")).status_code == 404
    quiet = await _register(client, "quiet")
    response = await client.get(f"/api/users/{quiet}/posts")
    assert response.status_code == 200
    assert response.json() == []


async def test_popular_posts_ordered_by_comment_count(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/posts/popular", params={"limit": 5})
    assert response.status_code == 200
    counts = [p["comment_count"] for p in response.json()]
    assert len(counts) == 5
    assert counts == sorted(counts, reverse=True)
    assert counts[0] == 3


async def test_post_and_comment_on_unknown_rows(client: httpx.AsyncClient) -> None:
    missing_author = await client.post(
        "/api/posts", json={"user_id": 999999, "title": "t", "body": "b"}
    )
    assert missing_author.status_code == 422
    assert missing_author.json()["detail"][0]["loc"] == ["body", "user_id"]
    assert "999999" in missing_author.json()["detail"][0]["msg"]

    missing_post = await _comment(client, 999999, 1)
    assert missing_post.status_code == 404
    assert "post 999999" in missing_post.json()["detail"]

    missing_commenter = await _comment(client, 1, 999999)
    assert missing_commenter.status_code == 422
    assert missing_commenter.json()["detail"][0]["loc"] == ["body", "user_id"]


async def test_invalid_post_bodies_are_422(client: httpx.AsyncClient) -> None:
    for payload, field in (
        ({"user_id": 1, "title": "", "body": "b"}, "title"),
        ({"user_id": 1, "title": "t" * 201, "body": "b"}, "title"),
        ({"user_id": 1, "title": "t", "body": "b" * 10_001}, "body"),
        ({"user_id": "one", "title": "t", "body": "b"}, "user_id"),
    ):
        response = await client.post("/api/posts", json=payload)
        assert response.status_code == 422, payload
        assert response.json()["detail"][0]["loc"][-1] == field
