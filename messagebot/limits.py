"""Rate limits (MESSAGEBOT_RATE_LIMIT): one budget per client, checked and spent in one step.

The algorithm is GCRA (the generic cell rate algorithm): each client has a theoretical arrival
time (TAT); a request is let through while the TAT is at most `(count - 1) × interval` ahead of
now, and moves it one interval on. So `5/minute` lets a burst of 5 through, then one every 12 s.

With REDIS_URL the TAT lives in Redis and a Lua script reads, decides and writes it: Redis runs
a script alone, so however many requests of however many workers and dynos arrive at once, at
most the budget gets through, and it costs one round trip. (Reading, checking and writing back
in separate round trips, as the store of quart-rate-limiter did, let a burst of 50 through a
limit of 5.) The script takes the time from Redis's clock, so dynos' clocks need not agree.
Without Redis the TAT lives in this process, where nothing awaits between reading and writing.

If Redis cannot be reached, requests are let through (fail open), the log says so every 30 s
and `messagebot_rate_limit_unenforced_total` counts them; after a failure, Redis is asked
again a second later (RedisLimiter).
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from prometheus_client import Counter
from quart import Quart, Response, g, request
from werkzeug.exceptions import TooManyRequests

from .config import ConfigError
from .security import client_identity
from .shared import MAX_CONNECTIONS, SharedRedis

# The routes that spend model time; health, stats, docs and static files are not limited.
LIMITED_ENDPOINTS = frozenset(
    {
        "api.create_message",
        "api.stream_message",
        "api.legacy_streaming",
        "web.write_without_javascript",
    }
)
_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
KEY_PREFIX = "messagebot:rate:"

UNENFORCED = Counter(
    "messagebot_rate_limit_unenforced",
    "Requests let through unchecked because Redis could not be reached (fail open)",
)


@dataclass(frozen=True)
class RateLimit:
    count: int
    period: timedelta

    @property
    def interval_us(self) -> int:
        """Microseconds between two requests at the steady rate."""
        return round(self.period.total_seconds() * 1_000_000) // self.count

    @property
    def tolerance_us(self) -> int:
        """How far ahead of now the TAT may be for a request to pass: a burst of `count`."""
        return (self.count - 1) * self.interval_us


def parse_rate_limit(text: str) -> RateLimit:
    """`20/minute`, `5/second`, `100/hour`, `1000/day` (also `20/min`, `20 per minute`)."""
    match = re.fullmatch(
        r"\s*(\d+)\s*(?:/|per)\s*(second|sec|s|minute|min|m|hour|h|day|d)\s*", text.lower()
    )
    if not match or not 1 <= int(match.group(1)) <= 1_000_000:
        raise ConfigError(f"MESSAGEBOT_RATE_LIMIT must look like 20/minute, got {text!r}")
    unit = match.group(2)
    seconds = next(v for k, v in _PERIODS.items() if k.startswith(unit[0]))
    return RateLimit(int(match.group(1)), timedelta(seconds=seconds))


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    #: Refused: microseconds until one more request may pass. Allowed: until the whole
    #: budget is back (the TAT minus now).
    wait_us: int
    remaining: int


def _verdict(limit: RateLimit, allowed: bool, wait_us: int) -> Verdict:
    remaining = 0
    if allowed and wait_us <= limit.tolerance_us:
        remaining = (limit.tolerance_us - wait_us) // limit.interval_us + 1
    return Verdict(allowed, wait_us, remaining)


class RateLimited(TooManyRequests):
    """429 `rate_limited`; errors.py and web.py render it with its Retry-After."""

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.retry_after = retry_after


class MemoryLimiter:
    """The TATs of one process. Nothing awaits between reading a TAT and writing it back, so
    concurrent requests are decided one after the other."""

    def __init__(self) -> None:
        self._tats: dict[str, int] = {}
        self._prune_at = 1024

    async def startup(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def hit(self, key: str, limit: RateLimit) -> Verdict | None:
        now = time.monotonic_ns() // 1000
        tat = max(self._tats.get(key, now), now)
        if tat - now > limit.tolerance_us:
            return _verdict(limit, False, tat - now - limit.tolerance_us)
        self._tats[key] = tat + limit.interval_us
        if len(self._tats) > self._prune_at:  # forget clients whose budget is whole again
            self._tats = {k: v for k, v in self._tats.items() if v > now}
            self._prune_at = max(1024, 2 * len(self._tats))
        return _verdict(limit, True, tat + limit.interval_us - now)


# KEYS[1]: the client's TAT, in microseconds of Redis's clock. ARGV[1]: the interval,
# ARGV[2]: the tolerance (RateLimit). Returns {1, TAT - now} when the request may pass (and
# moves the TAT on), {0, microseconds until one may} when not. The key expires when the TAT
# is reached: from then on, a missing key and an old TAT mean the same.
GCRA_SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat - now > tolerance then
    return {0, tat - now - tolerance}
end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000))
return {1, tat - now}
"""


class RedisLimiter:
    """The TATs in Redis, shared by every worker and dyno; one script call per request.

    At most MAX_CONNECTIONS calls are under way at once, the others wait their turn (up to
    QUEUE_S). Waiting is not failing: in a burst on a busy machine a turn took over half a
    second, and letting the requests that waited longer through unchecked let up to 37 of 50
    pass. A failure (no connection, a timeout, an error from Redis) is: for RETRY_S after one,
    requests pass at once without asking, those waiting their turn included, so that a sick
    Redis costs a few requests half a second each rather than every request its turn."""

    QUEUE_S = 5.0
    RETRY_S = 1.0

    def __init__(self, url: str) -> None:
        self._redis = SharedRedis(url, "rate limits are not enforced")
        self._script: Any = None
        self._turns = asyncio.Semaphore(MAX_CONNECTIONS)
        self._failed_at = -math.inf

    async def startup(self) -> None:
        await self._redis.connect()
        # redis-py sends the script's SHA1 (EVALSHA), and the script itself when Redis does
        # not know it yet (after a restart or a flush).
        self._script = self._redis.client.register_script(GCRA_SCRIPT)

    async def shutdown(self) -> None:
        await self._redis.close()

    def _failing(self) -> bool:
        return time.monotonic() - self._failed_at < self.RETRY_S

    async def hit(self, key: str, limit: RateLimit) -> Verdict | None:
        """The verdict, or None when Redis could not be asked (the request then passes)."""
        if self._failing():
            UNENFORCED.inc()
            return None
        try:
            async with asyncio.timeout(self.QUEUE_S):
                await self._turns.acquire()
        except TimeoutError:
            self._redis.unreachable(TimeoutError(f"no turn to ask it within {self.QUEUE_S} s"))
            UNENFORCED.inc()
            return None
        try:
            if self._failing():  # it failed while this request waited its turn
                UNENFORCED.inc()
                return None
            allowed, wait_us = await self._script(
                keys=[key], args=[limit.interval_us, limit.tolerance_us]
            )
        except Exception as error:
            self._failed_at = time.monotonic()
            self._redis.unreachable(error)
            UNENFORCED.inc()
            return None
        finally:
            self._turns.release()
        return _verdict(limit, bool(allowed), int(wait_us))


def init_app(app: Quart, rate_limit: str | None, redis_url: str | None) -> None:
    if not rate_limit:
        return
    limit = parse_rate_limit(rate_limit)
    limiter = RedisLimiter(redis_url) if redis_url else MemoryLimiter()
    app.before_serving(limiter.startup)
    app.after_serving(limiter.shutdown)

    @app.before_request
    async def check_rate_limit() -> None:
        # One budget for all the routes that write messages, so that a client cannot get
        # three times the limit by using three routes. A CORS preflight (OPTIONS) writes
        # nothing: a browser's message must not cost two.
        if request.endpoint not in LIMITED_ENDPOINTS or request.method == "OPTIONS":
            return
        verdict = await limiter.hit(KEY_PREFIX + client_identity(), limit)
        if verdict is None:
            return
        g.rate_limit = verdict
        if not verdict.allowed:
            raise RateLimited(max(1, math.ceil(verdict.wait_us / 1_000_000)))

    @app.after_request
    async def rate_limit_headers(response: Response) -> Response:
        verdict: Verdict | None = g.get("rate_limit")
        if verdict is not None:
            response.headers["RateLimit-Limit"] = str(limit.count)
            response.headers["RateLimit-Remaining"] = str(verdict.remaining)
            # Until the whole budget is back.
            reset_us = verdict.wait_us + (0 if verdict.allowed else limit.tolerance_us)
            response.headers["RateLimit-Reset"] = str(math.ceil(reset_us / 1_000_000))
        return response
