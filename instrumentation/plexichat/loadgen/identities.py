"""Client identities: an ``X-Forwarded-For`` address per simulated client.

``--identities N`` gives each request one of N addresses in ``10.0.0.0/8`` (identity ``i`` is
``10.a.b.c`` with ``a.b.c`` the 24-bit ``i``: ``10.0.0.0``, ``10.0.0.1``, ...), chosen uniformly
per request. This only matters to a server that trusts ``X-Forwarded-For``: the PlexiChat service
counts rate limits per client and believes the header only when configured to
(``api.rate_limiting.client_header: X-Forwarded-For`` with loadgen's address in
``trusted_proxies``); otherwise every request counts against loadgen's own address.
"""

from __future__ import annotations

import random

MAX_IDENTITIES = 2**24
HEADER = "X-Forwarded-For"


def address(index: int) -> str:
    """The address of identity ``index`` (0 <= index < 2**24)."""
    if not 0 <= index < MAX_IDENTITIES:
        raise ValueError(f"identity index must be in [0, {MAX_IDENTITIES}), got {index}")
    return f"10.{index >> 16 & 0xFF}.{index >> 8 & 0xFF}.{index & 0xFF}"


def headers(rng: random.Random, identities: int) -> dict[str, str]:
    """The header for a request from one of ``identities`` clients; none when 0."""
    if identities <= 0:
        return {}
    return {HEADER: address(rng.randrange(min(identities, MAX_IDENTITIES)))}


def header_line(rng: random.Random, identities: int) -> bytes:
    """:func:`headers` as a raw HTTP header line (``b""`` when 0)."""
    return b"".join(
        f"{name}: {value}\r\n".encode() for name, value in headers(rng, identities).items()
    )
