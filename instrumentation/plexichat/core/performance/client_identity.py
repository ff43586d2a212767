"""Whose request is it: the key rate limits count against.

By default the peer address of the connection. With ``api.rate_limiting.client_header`` set
(e.g. ``X-Forwarded-For``) *and* the peer in ``trusted_proxies`` (addresses or CIDR networks),
the header names the client instead; for a comma-separated forwarding chain the client is the
right-most address that is not itself a trusted proxy. A header from any other peer is
ignored, so clients cannot pick their own identity.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ClientIdentity:
    """Which client a request comes from, the key its rate limit counts against (see the module
    docstring).

    Args:
        header: ``api.rate_limiting.client_header`` (e.g. ``X-Forwarded-For``), believed only from a
            trusted proxy; ``None``: always the peer address.
        trusted_proxies: Addresses or CIDR networks of the proxies allowed to name the client.

    Raises:
        ValueError: A trusted proxy that is neither an address nor a network, naming the setting.
    """

    def __init__(self, header: str | None, trusted_proxies: Sequence[str]) -> None:
        self.header = header.lower().encode("latin-1") if header else None
        try:
            self.trusted: tuple[IPNetwork, ...] = tuple(
                ipaddress.ip_network(p, strict=False) for p in trusted_proxies
            )
        except ValueError as exc:
            raise ValueError(
                f"api.rate_limiting.trusted_proxies: {exc} (expected addresses or CIDR "
                "networks such as 10.0.0.0/8)"
            ) from None

    def _is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def client(self, scope: Scope) -> str:
        """The client of an ASGI ``scope``: the peer address, or the forwarded client when the peer
        is a trusted proxy (``"unknown"`` when the server gives no peer)."""
        peer = scope.get("client")
        address = str(peer[0]) if peer else "unknown"
        if self.header is None or not self.trusted or not self._is_trusted(address):
            return address
        for name, value in scope["headers"]:
            if name == self.header:
                hops = [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
                for hop in reversed(hops):
                    if not self._is_trusted(hop):
                        return str(hop)
                return hops[0] if hops else address
        return address
