"""Two service processes sharing a real PostgreSQL and a real Redis -- the chart's multi-replica
shape -- behave as one service: a write through either is read back at once through the same
one (read-your-writes), the other drops its L1 copy (invalidation over Redis pub/sub), and the
shared rate limiter counts a client once, not once per replica."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.support.redis_server import RedisServer
from tests.support.service import Service, serving

pytestmark = pytest.mark.integration

RATE = 30
"""A client may send RATE requests in all (whichever replica): the bucket holds burst - rate =
RATE tokens and refills at 30 an hour, less than one over the test."""


@pytest.fixture
def replicas(
    tmp_path: Path, postgres_url: str, redis_server: RedisServer
) -> Iterator[list[Service]]:
    env = {
        "PLEXICHAT_SERVICE__DATABASE_URL": postgres_url,
        "PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__ENABLED": "true",
        "PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__HOST": "127.0.0.1",
        "PLEXICHAT_PERFORMANCE__CACHING__REDIS_CACHE__PORT": str(redis_server.port),
        "PLEXICHAT_PERFORMANCE__API__RATE_LIMITING__DEFAULT_RATE": f"{RATE}/hour",
        "PLEXICHAT_PERFORMANCE__API__RATE_LIMITING__BURST_RATE": f"{2 * RATE}/hour",
        # each part of the test is its own client, named by X-Forwarded-For from loopback
        "PLEXICHAT_PERFORMANCE__API__RATE_LIMITING__CLIENT_HEADER": "X-Forwarded-For",
        "PLEXICHAT_PERFORMANCE__API__RATE_LIMITING__TRUSTED_PROXIES": '["127.0.0.1"]',
    }
    with ExitStack() as stack:
        yield [stack.enter_context(serving(tmp_path / name, env)) for name in ("a", "b")]


def _eventually(check: object, what: str, within_s: float = 5.0) -> None:
    """Poll ``check()`` until true; a bounded wait for pub/sub delivery, not a timing claim."""
    deadline = time.monotonic() + within_s
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within_s} s: {what}")
        time.sleep(0.02)


def _clients(replicas: list[Service], identity: str) -> tuple[httpx.Client, httpx.Client]:
    a, b = (
        httpx.Client(base_url=r.url, timeout=5, headers={"X-Forwarded-For": identity})
        for r in replicas
    )
    return a, b


def test_a_write_through_either_replica_is_read_through_both(replicas: list[Service]) -> None:
    a, b = _clients(replicas, "10.0.0.1")
    with a, b:
        # both replicas cache alice's listing and the popular posts in their L1
        for replica in (a, b):
            assert replica.get("/api/users/1/posts").status_code == 200
            assert replica.get("/api/posts/popular").status_code == 200

        # a write through A: A reads it back at once; B drops its copy and reads it too
        post = a.post("/api/posts", json={"user_id": 1, "title": "via a", "body": "x"}).json()
        assert a.get("/api/users/1/posts").json()[0]["id"] == post["id"]
        _eventually(
            lambda: b.get("/api/users/1/posts").json()[0]["id"] == post["id"],
            "replica B serves the post written through A",
        )

        # comments through B make it the most popular post, on both replicas
        for _ in range(5):
            comment = {"user_id": 2, "body": "c"}
            assert b.post(f"/api/posts/{post['id']}/comments", json=comment).status_code == 201
        top = b.get("/api/posts/popular").json()[0]
        assert (top["id"], top["comment_count"]) == (post["id"], 5)
        _eventually(
            lambda: a.get("/api/posts/popular").json()[0]["comment_count"] == 5,
            "replica A serves the new comment count",
        )

        # a user registered through B is known to A (written through to Redis and PostgreSQL)
        user = b.post("/api/users", json={"username": "zoe", "display_name": "Zoe"}).json()
        assert a.get(f"/api/users/{user['id']}").json()["username"] == "zoe"


def test_the_rate_limit_counts_a_client_once_across_replicas(replicas: list[Service]) -> None:
    a, b = _clients(replicas, "10.0.0.2")
    with a, b:
        statuses = [(a if i % 2 else b).get("/api/users/1").status_code for i in range(2 * RATE)]
    assert statuses.count(200) == RATE
    assert statuses.count(429) == RATE
    assert statuses[:RATE] == [200] * RATE
