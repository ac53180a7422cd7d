"""The Redis connection that rate limits and counters share state through, failing open."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("messagebot.redis")


class SharedRedis:
    """A Redis client with short timeouts, so that an unreachable Redis costs a request at
    most half a second; `unreachable()` logs it at most every 30 s, saying what it means."""

    def __init__(self, url: str, consequence: str) -> None:
        self.url = url
        self.client: Any = None
        self._consequence = consequence
        self._warned = 0.0

    async def connect(self) -> None:
        from redis import asyncio as aioredis

        self.client = aioredis.from_url(self.url, socket_timeout=0.5, socket_connect_timeout=0.5)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    def unreachable(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned > 30:
            self._warned = now
            log.warning("Redis unreachable, %s: %s", self._consequence, error)
