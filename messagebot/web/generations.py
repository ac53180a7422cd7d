"""Every generation a request began is closed when the request ends, however it ends.

A streaming route returns its Response with the generation already begun (its upstream
requests open), and the body's async generator closes it in its `finally`. But a client that
leaves before Quart reads the body's first chunk (while an `after_request` hook awaits, or
while the headers go out) has Quart cancel the request and drop the body unread, and an async
generator that never started runs no `finally`: the upstream requests went on writing, and
the messages were counted as written rather than `cancelled`. So this ASGI middleware closes
whatever the request began once the app is done with the request. Closing is idempotent (a
no-op for a generation that has ended or was closed by its body), so each is closed, and
counted, once.
"""

from __future__ import annotations

import logging
from typing import Any

from hypercorn.typing import ASGIFramework, ASGIReceiveCallable, ASGISendCallable, Scope

from ..generation import Choices, MessageStream

SCOPE_KEY = "messagebot.generations"

log = logging.getLogger("messagebot.generations")


def begun(scope: Any, stream: MessageStream | Choices) -> None:
    """Note that the request of `scope` began `stream`: it is closed when the request ends."""
    scope.setdefault(SCOPE_KEY, []).append(stream)


class CloseGenerations:
    """ASGI middleware: once the app has finished a request (its answer sent, or the request
    cancelled because the client left), close every generation the request began."""

    def __init__(self, app: ASGIFramework) -> None:
        self.app = app

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            streams: list[MessageStream | Choices] = scope.pop(SCOPE_KEY, [])  # type: ignore[misc]
            for stream in streams:
                try:
                    await stream.aclose()
                except Exception:  # the others must still be closed
                    log.exception("closing a generation at the end of its request failed")
