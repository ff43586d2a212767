"""Whole responses written straight to an ASGI ``send``: what middleware answers by itself.

The telemetry's ``/metrics`` (and its 404/405), the latency optimizer's refusals (413, 429,
504) and injected faults answer without the app, with a body and its ``content-length``. A
middleware that may refuse after the app has begun (413 while streaming, 504) passes the app a
:class:`TrackedSend`: once the response has started, its status can no longer change.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import Message, Send

PLAIN_TEXT = "text/plain; charset=utf-8"


async def respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: str = PLAIN_TEXT,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Send one complete response: status, content type and length, ``headers``, ``body``."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type.encode("latin-1")),
                (b"content-length", b"%d" % len(body)),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def plain_text(
    send: Send, status: int, text: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """A plain-text response (UTF-8)."""
    await respond(send, status, text.encode(), PLAIN_TEXT, headers)


class TrackedSend:
    """``send`` that remembers whether the response has started (``started``)."""

    __slots__ = ("send", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        """Send ``message``, noting the response's start."""
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)
