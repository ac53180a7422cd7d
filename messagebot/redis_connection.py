"""The Redis connection that rate limits and counters share state through, failing open.

One pool per process and Redis, shared by the rate limiter and the counters: at most
MESSAGEBOT_REDIS_MAX_CONNECTIONS connections (calls wait their turn rather than open more),
each call at most CALL_S, and a circuit breaker: after a failure, calls fail at once (no
connection, no wait) while a background probe asks Redis again every RETRY_S; the first answer
closes the breaker. So a frozen or unreachable Redis costs the calls under way when it failed
at most CALL_S each, and every later call nothing.

Not every error is a failure. Redis refusing a *new* connection because it has as many clients
as it allows (`maxclients`: hosted plans cap them, 20 on Heroku's smallest) is busy, not down:
the connections already open still work, so calls wait for one of them, and another is tried
only FULL_RETRY_S later. (Opening the breaker on that refusal let every request through the
rate limit unchecked while the open connections answered.) An error Redis answers with (a
permission the user lacks) is not a failure to reach it either: Refused, breaker closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from urllib.parse import urlsplit

log = logging.getLogger("messagebot.redis")


#: The default of MESSAGEBOT_REDIS_MAX_CONNECTIONS: connections per process (worker), for the
#: rate limit and the counters together. Requests wait (up to their queue time) for a free one
#: rather than each opening its own: a burst of 50 requests opened 50 connections at once, and
#: over TLS (rediss://) their handshakes outran the connect timeout, so the rate limit failed
#: open for most of the burst; and a burst of 200 streams left 310 connections open on Redis.
#: A round trip takes well under a millisecond.
MAX_CONNECTIONS = 4
#: Connecting (TCP and TLS handshake) and each read or write.
TIMEOUT_S = 0.5
#: One call in all: connecting, sending, reading.
CALL_S = 2 * TIMEOUT_S
#: /healthz's PING: its wait for a turn and the call.
PING_S = 0.25
#: After Redis refused a new connection for want of client slots, how long calls use only the
#: connections already open before another is tried.
FULL_RETRY_S = 0.5

Health = Literal["ok", "unreachable"]


class Unavailable(Exception):
    """Redis was not asked (the breaker is open, or no turn came) or did not answer."""


class NoTurn(Unavailable):
    """Every connection stayed busy while the call waited its turn: busy, not broken."""


class Refused(Unavailable):
    """Redis answered with an error (a permission the user lacks, …): it is reachable, so the
    breaker stays closed, but the call did not do what it should."""


def is_full(error: BaseException) -> bool:
    """Whether Redis refused a new connection because it has as many clients as it allows."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    return isinstance(error, RedisConnectionError) and "max number of clients" in str(error)


def explain(error: BaseException, url: str) -> str:
    """What an operator needs to know about `error`: for the errors whose own words do not say
    what is wrong (redis-py's "HELLO must be called with the client already authenticated…"
    when the URL has no password), what is and what to do."""
    from redis.exceptions import AuthenticationError, NoPermissionError

    if isinstance(error, AuthenticationError):
        if not urlsplit(url).password:
            return (
                "Redis requires a password: put it in REDIS_URL (redis://:PASSWORD@host:port) "
                f"(Redis said: {error})"
            )
        return f"Redis refused the user or password in REDIS_URL (Redis said: {error})"
    if isinstance(error, NoPermissionError):
        return f"the Redis user in REDIS_URL lacks a permission (Redis said: {error})"
    if is_full(error):
        return (
            "Redis refused a new connection: it has as many clients as it allows (maxclients; "
            "hosted plans cap them). Raise the plan's limit or lower "
            f"MESSAGEBOT_REDIS_MAX_CONNECTIONS (Redis said: {error})"
        )
    return str(error) or type(error).__name__


class _Slot:
    """One connection of the pool: a single-connection client, `open` once it has answered."""

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self.client: Any = make()
        self.open = False

    async def reset(self) -> None:
        """A fresh client, after a failure left this one's connection in doubt."""
        old, self.client, self.open = self.client, self._make(), False
        with contextlib.suppress(Exception):
            await old.aclose()


class _Pool:
    """The connections of one process to one Redis, and the breaker, shared by its users."""

    def __init__(self, url: str, options: dict[str, Any], size: int) -> None:
        from redis import asyncio as aioredis

        def make() -> Any:
            return aioredis.Redis.from_url(url, single_connection_client=True, **options)

        self.url = url
        self.loop = asyncio.get_running_loop()
        self.slots = [_Slot(make) for _ in range(size)]
        self._idle = list(self.slots)
        self._changed = asyncio.Condition()
        self._full_until = -math.inf
        self.failed = False
        self.answered_at = -math.inf
        #: Calls that failed (a timeout, no connection: each opened the breaker or found it
        #: opening), and calls that waited their whole queue time for a turn (NoTurn): what a
        #: frozen or full Redis cost, counted.
        self.unanswered = 0
        self.waited_out = 0
        self.probe: asyncio.Task[None] | None = None
        self.users: set[SharedRedis] = set()

    def _pick(self) -> _Slot | None:
        """An idle open connection; else, unless Redis refused one a moment ago for want of
        client slots, an idle one to open."""
        for slot in reversed(self._idle):
            if slot.open:
                return slot
        if self._idle and time.monotonic() >= self._full_until:
            return self._idle[-1]
        return None

    async def take(self) -> _Slot:
        """A connection to call on; NoTurn at once when Redis refused one for want of client
        slots a moment ago and none is open (waiting would only delay the request)."""
        async with self._changed:
            while True:
                slot = self._pick()
                if slot is not None:
                    self._idle.remove(slot)
                    return slot
                if not self.open_connections() and time.monotonic() < self._full_until:
                    raise NoTurn(
                        "Redis has as many clients as it allows (maxclients) and this process "
                        "has no connection open to it"
                    )
                if any(not slot.open for slot in self._idle):  # waiting out a refusal
                    wait = max(0.0, self._full_until - time.monotonic())
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(wait):
                            await self._changed.wait()
                else:
                    await self._changed.wait()

    async def give_back(self, slot: _Slot) -> None:
        async with self._changed:
            self._idle.append(slot)
            self._changed.notify_all()

    def full(self) -> None:
        self._full_until = time.monotonic() + FULL_RETRY_S

    def open_connections(self) -> int:
        return sum(slot.open for slot in self.slots)

    async def close(self) -> None:
        if self.probe is not None:
            self.probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.probe
        for slot in self.slots:
            await slot.client.aclose()


#: The pools of this process, by event loop, URL and options; each lives while it has users.
_pools: dict[tuple[int, str, bool, int], _Pool] = {}


class SharedRedis:
    """One user's (the limiter's, the counters') handle on its process's pool for a Redis:
    small, with short timeouts and a circuit breaker; `unreachable()` logs a failure at most
    every 30 s, saying what it means for this user."""

    RETRY_S = 1.0
    #: When /healthz's PING gets no turn (every connection busy), a call that got an answer
    #: this recently is answer enough.
    FRESH_S = 1.0

    def __init__(
        self,
        url: str,
        consequence: str,
        *,
        verify: bool = True,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.url = url
        self.verify = verify
        self.max_connections = max_connections
        self._consequence = consequence
        self._warned = -math.inf
        self._pool: _Pool | None = None
        self._key: tuple[int, str, bool, int] | None = None

    def connection_options(self) -> dict[str, Any]:
        """redis-py's options for our URL: the timeouts, no retries of its own (the breaker
        decides when to ask again) and, for rediss://, whether the server's certificate is
        verified (MESSAGEBOT_REDIS_VERIFY; options in the URL's query win)."""
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        options: dict[str, Any] = {
            "socket_timeout": TIMEOUT_S,
            "socket_connect_timeout": TIMEOUT_S,
            "retry": Retry(NoBackoff(), 0),
        }
        if self.url.lower().startswith("rediss://"):
            options["ssl_cert_reqs"] = "required" if self.verify else "none"
            options["ssl_check_hostname"] = self.verify
        return options

    @property
    def pool(self) -> _Pool:
        assert self._pool is not None, "SharedRedis used before connect() or after close()"
        return self._pool

    async def connect(self) -> None:
        """Join this process's pool for the URL (made by its first user; nothing connects
        until the first call)."""
        loop = asyncio.get_running_loop()
        key = (id(loop), self.url, self.verify, self.max_connections)
        if key not in _pools or _pools[key].loop is not loop:  # (an id reused: a new loop)
            _pools[key] = _Pool(self.url, self.connection_options(), self.max_connections)
        self._key, self._pool = key, _pools[key]
        self._pool.users.add(self)

    async def close(self) -> None:
        if self._pool is None or self._key is None:
            return
        pool, self._pool = self._pool, None
        pool.users.discard(self)
        if not pool.users:
            if _pools.get(self._key) is pool:
                del _pools[self._key]
            await pool.close()

    def available(self) -> bool:
        """Whether the breaker is closed: the last call got an answer."""
        return not self.pool.failed

    async def call(
        self,
        command: Callable[[Any], Awaitable[Any]],
        *,
        queue_s: float = CALL_S,
        within: float = CALL_S,
    ) -> Any:
        """`command(client)` on a connection of its own (waited for up to `queue_s`), bounded
        by `within`; Unavailable at once while the breaker is open, or when it fails (which
        opens the breaker); Refused when Redis answers with an error. When Redis refuses a new
        connection for want of client slots, the call waits for one already open instead."""
        pool = self.pool
        if pool.failed:
            raise Unavailable("Redis failed a moment ago")
        deadline = time.monotonic() + queue_s
        stale_retried = False
        while True:
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    slot = await pool.take()
            except TimeoutError:
                # Busy, not broken: the breaker stays closed.
                pool.waited_out += 1
                raise NoTurn(f"no turn to ask Redis within {queue_s} s") from None
            try:
                if pool.failed:  # it failed while this call waited its turn
                    raise Unavailable("Redis failed a moment ago")
                try:
                    async with asyncio.timeout(within):
                        result = await command(slot.client)
                except Exception as error:
                    if not stale_retried and self._stale(error, slot):
                        # Redis closed a connection that had sat idle (its `timeout`; Heroku
                        # closes them after 300 s): once more, on a fresh one.
                        stale_retried = True
                        await slot.reset()
                        continue
                    await self._after(error, slot)
                    continue  # refused for want of slots: wait for an open connection
                slot.open = True
                pool.answered_at = time.monotonic()
                return result
            finally:
                await pool.give_back(slot)

    @staticmethod
    def _stale(error: Exception, slot: _Slot) -> bool:
        """Whether `error` is an open connection found closed (not a timeout, not a refusal)."""
        from redis.exceptions import AuthenticationError
        from redis.exceptions import ConnectionError as RedisConnectionError

        return (
            slot.open
            and isinstance(error, RedisConnectionError)
            and not isinstance(error, AuthenticationError)
            and not is_full(error)
        )

    async def _after(self, error: Exception, slot: _Slot) -> None:
        """Decide what `error` means; returns only when the call should wait its turn again."""
        from redis.exceptions import ResponseError

        pool = self.pool
        if is_full(error):
            await slot.reset()
            pool.full()
            open_now = pool.open_connections()
            if open_now:
                self.warn(error, f"waiting for the {open_now} connection(s) open")
            else:
                self.warn(error, f"{self._consequence} (no connection open)")
            return
        if isinstance(error, ResponseError):
            slot.open = True  # it answered
            raise Refused(explain(error, self.url)) from error
        await slot.reset()
        pool.unanswered += 1
        self.failed(error)
        raise Unavailable(explain(error, self.url)) from error

    def failed(self, error: Exception) -> None:
        """Open the breaker (if it is not), say so, and probe Redis until it answers."""
        pool = self.pool
        for user in pool.users:
            user.unreachable(error)
        pool.failed = True
        if pool.probe is None or pool.probe.done():
            pool.probe = asyncio.get_running_loop().create_task(self._probe_until_answered(pool))

    async def _probe_until_answered(self, pool: _Pool) -> None:
        while pool.failed:
            await asyncio.sleep(self.RETRY_S)
            try:
                slot = await pool.take()
            except NoTurn:  # full, and nothing open: Redis answers, it is only busy
                pool.failed = False
                log.info("Redis answers again (but has no client slot free)")
                return
            try:
                async with asyncio.timeout(CALL_S):
                    await slot.client.ping()
            except Exception as error:
                await slot.reset()
                if not is_full(error):  # full: Redis answers, it is only busy
                    for user in pool.users:
                        user.unreachable(error)
                    continue
                pool.full()
            else:
                slot.open = True
            finally:
                await pool.give_back(slot)
            pool.failed = False
            pool.answered_at = time.monotonic()
            log.info("Redis answers again")

    async def health(self) -> Health:
        """For /healthz: `unreachable` at once while the breaker is open; else the answer
        to a PING bounded by PING_S (its wait for a turn, then the call). When every
        connection stays busy that long, `ok` if a call got an answer within FRESH_S."""
        pool = self.pool
        if pool.failed:
            return "unreachable"
        try:
            await self.call(lambda client: client.ping(), queue_s=PING_S, within=PING_S)
        except NoTurn:
            fresh = time.monotonic() - pool.answered_at < self.FRESH_S
            return "ok" if fresh else "unreachable"
        except Refused:
            return "ok"  # it answered
        except Unavailable:
            return "unreachable"
        return "ok"

    def unreachable(self, error: Exception) -> None:
        from redis.exceptions import AuthenticationError

        said = error.__cause__ if isinstance(error, Unavailable) and error.__cause__ else error
        if isinstance(said, AuthenticationError):  # it answered: it will not let us in
            self.warn(said, self._consequence, prefix="Redis refuses our credentials")
        else:
            self.warn(error, self._consequence, prefix="Redis unreachable")

    def warn(self, error: BaseException, consequence: str, prefix: str = "Redis") -> None:
        """Log `error` at most every 30 s, with what it means for this user."""
        now = time.monotonic()
        if now - self._warned > 30:
            self._warned = now
            log.warning("%s, %s: %s", prefix, consequence, explain(error, self.url))
