"""The request mix: what a simulated PlexiChat user does, and how often.

Reads far outnumber writes. About 2 % of requests name a user that does not exist (404) and 1 %
send an invalid body (422), so error paths carry load too. ``Population`` holds the ids the mix
draws from: the users and posts created before the run, plus those the run creates.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

UNKNOWN_ID_OFFSET = 1_000_000_000
"""Unknown user ids are drawn above the largest known id plus this, so they never exist."""


@dataclass(frozen=True)
class RequestSpec:
    """One request to send: an operation name (for the report), method, path, JSON body."""

    operation: str
    method: str
    path: str
    json: dict[str, Any] | None = None


@dataclass
class Population:
    """The user and post ids requests are drawn from; grows as the run creates more."""

    user_ids: list[int]
    post_ids: list[int]
    name_prefix: str
    _names: int = field(default=0, repr=False)

    def user(self, rng: random.Random) -> int:
        """A user id to act as, uniformly among the known ones."""
        return rng.choice(self.user_ids)

    def post(self, rng: random.Random) -> int:
        """A post id to comment on (1, a seeded post, while none is known)."""
        return rng.choice(self.post_ids) if self.post_ids else 1

    def unknown_user(self, rng: random.Random) -> int:
        """An id above every known user by at least ``UNKNOWN_ID_OFFSET``: a 404 on purpose."""
        return max(self.user_ids, default=0) + UNKNOWN_ID_OFFSET + rng.randrange(1_000_000)

    def new_username(self) -> str:
        """A username not used before in this run (prefix and counter)."""
        self._names += 1
        return f"{self.name_prefix}{self._names}"


Builder = Callable[[random.Random, Population], RequestSpec]


def _user_posts(rng: random.Random, pop: Population) -> RequestSpec:
    return RequestSpec("get_user_posts", "GET", f"/api/users/{pop.user(rng)}/posts?limit=20")


def _user(rng: random.Random, pop: Population) -> RequestSpec:
    return RequestSpec("get_user", "GET", f"/api/users/{pop.user(rng)}")


def _popular(rng: random.Random, pop: Population) -> RequestSpec:
    return RequestSpec("get_popular", "GET", "/api/posts/popular?limit=10")


def _message(rng: random.Random, pop: Population) -> RequestSpec:
    body = {"sender_id": pop.user(rng), "recipient_id": pop.user(rng), "body": "hello there"}
    return RequestSpec("send_message", "POST", "/api/messages", body)


def _comment(rng: random.Random, pop: Population) -> RequestSpec:
    body = {"user_id": pop.user(rng), "body": "nice post"}
    return RequestSpec("create_comment", "POST", f"/api/posts/{pop.post(rng)}/comments", body)


def _post(rng: random.Random, pop: Population) -> RequestSpec:
    body = {"user_id": pop.user(rng), "title": "load test", "body": "a post written by loadgen"}
    return RequestSpec("create_post", "POST", "/api/posts", body)


def _register(rng: random.Random, pop: Population) -> RequestSpec:
    name = pop.new_username()
    return RequestSpec("register", "POST", "/api/users", {"username": name, "display_name": name})


def _unknown_user(rng: random.Random, pop: Population) -> RequestSpec:
    suffix = "/posts" if rng.random() < 0.5 else ""
    return RequestSpec("unknown_user", "GET", f"/api/users/{pop.unknown_user(rng)}{suffix}")


def _invalid_message(rng: random.Random, pop: Population) -> RequestSpec:
    body = {"sender_id": pop.user(rng), "recipient_id": pop.user(rng), "body": ""}
    return RequestSpec("invalid_message", "POST", "/api/messages", body)


def _random_path(rng: random.Random, pop: Population) -> RequestSpec:
    """A path no route matches (404): exercises what unmatched requests cost and must not
    create (series, cache entries) -- the soak's probe for unbounded growth."""
    return RequestSpec("random_path", "GET", f"/{rng.getrandbits(64):016x}/{rng.randrange(10**6)}")


MIX: tuple[tuple[str, Builder, int], ...] = (
    ("get_user_posts", _user_posts, 57),
    ("get_user", _user, 15),
    ("get_popular", _popular, 10),
    ("send_message", _message, 8),
    ("create_comment", _comment, 4),
    ("create_post", _post, 2),
    ("register", _register, 1),
    ("unknown_user", _unknown_user, 2),  # 404
    ("invalid_message", _invalid_message, 1),  # 422
)
"""Operations (as the report names them), their builders and weights, in percent of requests."""

OPERATIONS = tuple(name for name, _, _ in MIX)


class Mix:
    """The part of :data:`MIX` a run draws from: every operation, or only ``only`` (their
    weights kept), less ``register`` when ``register`` is false (a fixed population), plus
    ``random_paths`` percent of requests to paths no route matches."""

    def __init__(
        self, only: frozenset[str] | None = None, *, register: bool = True, random_paths: float = 0
    ) -> None:
        unknown = (only or frozenset()) - set(OPERATIONS)
        if unknown:
            raise ValueError(
                f"unknown operations {sorted(unknown)}; known: {', '.join(OPERATIONS)}"
            )
        chosen: list[tuple[Builder, float]] = [
            (builder, weight)
            for name, builder, weight in MIX
            if (only is None or name in only) and (register or name != "register")
        ]
        if not chosen:
            raise ValueError("the mix is empty: --only named nothing but register")
        if not 0 <= random_paths < 100:
            raise ValueError(f"random_paths must be a percentage in [0, 100), got {random_paths}")
        if random_paths:  # that share of all requests, the mix's weights kept among the rest
            total = sum(weight for _, weight in chosen)
            chosen.append((_random_path, total * random_paths / (100 - random_paths)))
        self._builders = [builder for builder, _ in chosen]
        self._weights = [weight for _, weight in chosen]

    def next_request(
        self, operations: random.Random, ids: random.Random, population: Population
    ) -> RequestSpec:
        """Draw the next request: its operation from ``operations``, its ids from ``ids``.

        Two generators, so the sequence of operations depends on the seed alone, not on how
        many ids the population holds when a request is drawn.
        """
        builder = operations.choices(self._builders, weights=self._weights)[0]
        return builder(ids, population)
