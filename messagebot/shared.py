"""The Redis connection that rate limits and counters share state through, failing open."""

from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("messagebot.redis")


#: Connections per SharedRedis and process. Requests wait (up to the timeout) for a free one
#: rather than each opening its own: a burst of 50 requests opened 50 connections at once,
#: and over TLS (rediss://) their handshakes outran the connect timeout, so the rate limit
#: failed open for most of the burst. A round trip takes well under a millisecond.
MAX_CONNECTIONS = 4
TIMEOUT_S = 0.5


class SharedRedis:
    """A Redis client with a small pool and short timeouts, so that an unreachable Redis
    costs a request at most about a second; `unreachable()` logs it at most every 30 s,
    saying what it means."""

    def __init__(self, url: str, consequence: str) -> None:
        self.url = url
        self.client: Any = None
        self._pool: Any = None
        self._consequence = consequence
        self._warned = 0.0

    async def connect(self) -> None:
        from redis import asyncio as aioredis

        self._pool = aioredis.BlockingConnectionPool.from_url(
            self.url,
            max_connections=MAX_CONNECTIONS,
            timeout=TIMEOUT_S,  # the wait for a free connection
            socket_timeout=TIMEOUT_S,
            socket_connect_timeout=TIMEOUT_S,
        )
        self.client = aioredis.Redis(connection_pool=self._pool)

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            await self._pool.disconnect()

    def unreachable(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned > 30:
            self._warned = now
            log.warning("Redis unreachable, %s: %s", self._consequence, error)
