"""Rate limits (MESSAGEBOT_RATE_LIMIT) with quart-rate-limiter, shared through Redis if set."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

from quart import Quart, request
from quart_rate_limiter import RateLimit, RateLimiter
from quart_rate_limiter.store import RateLimiterStoreABC

from .config import ConfigError
from .security import client_identity
from .shared import SharedRedis

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


def parse_rate_limit(text: str) -> RateLimit:
    """`20/minute`, `5/second`, `100/hour`, `1000/day` (also `20/min`, `20 per minute`)."""
    match = re.fullmatch(
        r"\s*(\d+)\s*(?:/|per)\s*(second|sec|s|minute|min|m|hour|h|day|d)\s*", text.lower()
    )
    if not match or int(match.group(1)) < 1:
        raise ConfigError(f"MESSAGEBOT_RATE_LIMIT must look like 20/minute, got {text!r}")
    unit = match.group(2)
    seconds = next(v for k, v in _PERIODS.items() if k.startswith(unit[0]))
    return RateLimit(int(match.group(1)), timedelta(seconds=seconds))


class FailOpenRedisStore(RateLimiterStoreABC):
    """quart-rate-limiter's Redis store, with keys that expire once they no longer matter
    and requests let through (with a warning) while Redis is unreachable."""

    def __init__(self, url: str) -> None:
        self._redis = SharedRedis(url, "rate limits are not enforced")

    async def before_serving(self) -> None:
        await self._redis.connect()

    async def after_serving(self) -> None:
        await self._redis.close()

    async def get(self, key: str, default: datetime) -> datetime:
        try:
            value = await self._redis.client.get(f"messagebot:rate:{key}")
        except Exception as error:
            self._redis.unreachable(error)
            return default
        return default if value is None else datetime.fromtimestamp(float(value), UTC)

    async def set(self, key: str, tat: datetime) -> None:
        ttl_ms = max(1, math.ceil((tat - datetime.now(UTC)).total_seconds() * 1000)) + 1000
        try:
            await self._redis.client.set(f"messagebot:rate:{key}", tat.timestamp(), px=ttl_ms)
        except Exception as error:
            self._redis.unreachable(error)


class SharedBudgetRateLimiter(RateLimiter):
    """quart-rate-limiter keys each limit by endpoint; ours is one budget for all the routes
    that write messages, so a client cannot get three times the limit by using three routes."""

    async def _create_key(self, endpoint: str, rate_limit: RateLimit) -> str:
        return await super()._create_key("generate", rate_limit)


async def _identity() -> str:
    return client_identity()


async def _not_generation() -> bool:
    return request.endpoint not in LIMITED_ENDPOINTS


def init_app(app: Quart, rate_limit: str | None, redis_url: str | None) -> None:
    if not rate_limit:
        return
    limit = parse_rate_limit(rate_limit)
    store = FailOpenRedisStore(redis_url) if redis_url else None
    SharedBudgetRateLimiter(
        app,
        key_function=_identity,
        store=store,
        default_limits=[limit],
        skip_function=_not_generation,
    )
