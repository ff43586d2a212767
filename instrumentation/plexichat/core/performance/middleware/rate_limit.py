"""Per-client rate limiting: 429 Too Many Requests with ``Retry-After``.

Every response through it carries ``RateLimit-Policy`` (the limit, e.g. ``100;w=60;burst=200``)
so clients -- ``plexichat-obs loadgen`` among them -- can say which limit they ran under.
The client is identified by :class:`~plexichat.core.performance.client_identity.ClientIdentity`;
the bucket arithmetic is in :mod:`plexichat.core.performance.rate_limiter`.
"""

from __future__ import annotations

import math

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plexichat.core.performance.client_identity import ClientIdentity
from plexichat.core.performance.rate_limiter import RateLimiter
from plexichat.observability.metrics.instruments import CounterSeries
from plexichat.observability.responses import plain_text


class RateLimitMiddleware:
    """ASGI middleware taking one token of ``limiter`` per HTTP request, for the client ``identity``
    names; 429 with ``Retry-After`` (whole seconds, at least 1) when none is left, counted in
    ``rejected``.

    Paths in ``exempt_paths`` (``/metrics``, the probes) are never limited; every other response
    carries the ``RateLimit-Policy`` header.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limiter: RateLimiter,
        identity: ClientIdentity,
        rejected: CounterSeries,
        exempt_paths: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.identity = identity
        self.rejected = rejected
        self.exempt = frozenset(exempt_paths)
        self.policy = (b"ratelimit-policy", limiter.policy.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Limit one HTTP request; other scopes and exempt paths pass through untouched."""
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        wait_s = await self.limiter.acquire(self.identity.client(scope))
        if wait_s > 0:
            self.rejected.value += 1
            retry = str(max(1, math.ceil(wait_s))).encode()
            await plain_text(
                send,
                429,
                f"rate limit {self.limiter.policy_text} exceeded; retry in {retry.decode()} s\n",
                [(b"retry-after", retry), self.policy],
            )
            return
        policy = self.policy

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), policy]
            await send(message)

        await self.app(scope, receive, with_policy)
