"""The Redis connection that rate limits and counters share state through, failing open.

Bounded in every way: at most MAX_CONNECTIONS connections per SharedRedis and process (calls
wait their turn rather than open more), each call at most CALL_S, and a circuit breaker: after
a failure, calls fail at once (no connection, no wait) while a background probe asks Redis
again every RETRY_S; the first answer closes the breaker. So a frozen or unreachable Redis
costs the calls under way when it failed at most CALL_S each, and every later call nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

log = logging.getLogger("messagebot.redis")


#: Connections per SharedRedis and process. Requests wait (up to their queue time) for a free
#: one rather than each opening its own: a burst of 50 requests opened 50 connections at once,
#: and over TLS (rediss://) their handshakes outran the connect timeout, so the rate limit
#: failed open for most of the burst; and a burst of 200 streams left 310 connections open on
#: Redis (small hosted plans allow 20). A round trip takes well under a millisecond.
MAX_CONNECTIONS = 4
#: Connecting (TCP and TLS handshake) and each read or write.
TIMEOUT_S = 0.5
#: One call in all: connecting, sending, reading.
CALL_S = 2 * TIMEOUT_S
#: /healthz's PING: its wait for a turn and the call.
PING_S = 0.25

Health = Literal["ok", "unreachable"]


class Unavailable(Exception):
    """Redis was not asked (the breaker is open, or no turn came) or did not answer."""


class NoTurn(Unavailable):
    """Every connection stayed busy while the call waited its turn: busy, not broken."""


class SharedRedis:
    """A Redis client with a small pool, short timeouts and a circuit breaker;
    `unreachable()` logs a failure at most every 30 s, saying what it means."""

    RETRY_S = 1.0
    #: When /healthz's PING gets no turn (every connection busy), a call that got an answer
    #: this recently is answer enough.
    FRESH_S = 1.0

    def __init__(self, url: str, consequence: str, *, verify: bool = True) -> None:
        self.url = url
        self.verify = verify
        self.client: Any = None
        self._pool: Any = None
        self._consequence = consequence
        self._warned = -math.inf
        self._turns = asyncio.Semaphore(MAX_CONNECTIONS)
        self._failed = False
        self._answered_at = -math.inf
        self._probe: asyncio.Task[None] | None = None

    def connection_options(self) -> dict[str, Any]:
        """redis-py's options for our URL: the pool's bound, the timeouts, no retries of its
        own (the breaker decides when to ask again) and, for rediss://, whether the server's
        certificate is verified (MESSAGEBOT_REDIS_VERIFY; options in the URL's query win)."""
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        options: dict[str, Any] = {
            "max_connections": MAX_CONNECTIONS,
            "timeout": TIMEOUT_S,  # the wait for a free connection
            "socket_timeout": TIMEOUT_S,
            "socket_connect_timeout": TIMEOUT_S,
            "retry": Retry(NoBackoff(), 0),
        }
        if self.url.lower().startswith("rediss://"):
            options["ssl_cert_reqs"] = "required" if self.verify else "none"
            options["ssl_check_hostname"] = self.verify
        return options

    async def connect(self) -> None:
        from redis import asyncio as aioredis

        self._pool = aioredis.BlockingConnectionPool.from_url(self.url, **self.connection_options())
        self.client = aioredis.Redis(connection_pool=self._pool)

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
        if self.client is not None:
            await self.client.aclose()
            await self._pool.disconnect()

    def available(self) -> bool:
        """Whether the breaker is closed: the last call got an answer."""
        return not self._failed

    async def call(
        self,
        command: Callable[..., Awaitable[Any]],
        *args: Any,
        queue_s: float = CALL_S,
        within: float = CALL_S,
        **kwargs: Any,
    ) -> Any:
        """`command(*args, **kwargs)` in a turn of its own (waited for up to `queue_s`), bounded
        by `within`; Unavailable at once while the breaker is open, or when it fails (which
        opens the breaker)."""
        if self._failed:
            raise Unavailable("Redis failed a moment ago")
        try:
            async with asyncio.timeout(queue_s):
                await self._turns.acquire()
        except TimeoutError:
            # Busy, not broken: the breaker stays closed.
            raise NoTurn(f"no turn to ask Redis within {queue_s} s") from None
        try:
            if self._failed:  # it failed while this call waited its turn
                raise Unavailable("Redis failed a moment ago")
            try:
                async with asyncio.timeout(within):
                    result = await command(*args, **kwargs)
            except Exception as error:
                self.failed(error)
                raise Unavailable(str(error) or type(error).__name__) from error
            self._answered_at = time.monotonic()
            return result
        finally:
            self._turns.release()

    def failed(self, error: Exception) -> None:
        """Open the breaker (if it is not), say so, and probe Redis until it answers."""
        self.unreachable(error)
        self._failed = True
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._probe_until_answered())

    async def _probe_until_answered(self) -> None:
        while self._failed:
            await asyncio.sleep(self.RETRY_S)
            async with self._turns:
                try:
                    async with asyncio.timeout(CALL_S):
                        await self.client.ping()
                except Exception as error:
                    self.unreachable(error)
                    continue
            self._failed = False
            self._answered_at = time.monotonic()
            log.info("Redis answers again")

    async def health(self) -> Health:
        """For /healthz: `unreachable` at once while the breaker is open; else the answer
        to a PING bounded by PING_S (its wait for a turn, then the call). When every
        connection stays busy that long, `ok` if a call got an answer within FRESH_S."""
        if self._failed:
            return "unreachable"
        try:
            await self.call(self.client.ping, queue_s=PING_S, within=PING_S)
        except NoTurn:
            fresh = time.monotonic() - self._answered_at < self.FRESH_S
            return "ok" if fresh else "unreachable"
        except Unavailable:
            return "unreachable"
        return "ok"

    def unreachable(self, error: Exception) -> None:
        now = time.monotonic()
        if now - self._warned > 30:
            self._warned = now
            log.warning("Redis unreachable, %s: %s", self._consequence, error)
