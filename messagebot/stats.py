"""Usage counters for GET /v1/stats: messages generated, by provider and by outcome."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, Protocol

from .redis_connection import MAX_CONNECTIONS, Refused, SharedRedis, Unavailable


class Stats(Protocol):
    async def record(self, provider: str, outcome: str) -> None: ...

    async def snapshot(self) -> dict[str, Any]: ...

    async def startup(self) -> None: ...

    async def shutdown(self) -> None: ...


def _summary(counts: Counter[tuple[str, str]], scope: str) -> dict[str, Any]:
    by_provider: Counter[str] = Counter()
    by_outcome: Counter[str] = Counter()
    for (provider, outcome), count in counts.items():
        by_provider[provider] += count
        by_outcome[outcome] += count
    return {
        "messages_generated": by_outcome["stop"] + by_outcome["length"],
        "requests": sum(by_outcome.values()),
        "by_provider": dict(by_provider),
        "by_outcome": dict(by_outcome),
        "scope": scope,
    }


class MemoryStats:
    """Counters of one process. Outcomes: stop, length, cancelled, or an error code."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    async def record(self, provider: str, outcome: str) -> None:
        self.counts[(provider, outcome)] += 1

    async def snapshot(self) -> dict[str, Any]:
        return _summary(self.counts, "process")

    async def startup(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class RedisStats:
    """Counters shared by every worker and dyno through one Redis hash. While Redis is
    unreachable, counts are kept in this process and a warning is logged (fail open).

    A count is written in the background: the end of a generation (its `done`) never waits
    for Redis. At most MAX_PENDING writes wait at once; past that, and while SharedRedis's
    breaker is open, counts go to this process at once."""

    KEY = "messagebot:stats"
    MAX_PENDING = 1000

    def __init__(
        self, url: str, *, verify: bool = True, max_connections: int = MAX_CONNECTIONS
    ) -> None:
        self.redis = SharedRedis(
            url, "counting in this process only", verify=verify, max_connections=max_connections
        )
        self._local = MemoryStats()
        self._pending: set[asyncio.Task[None]] = set()

    async def startup(self) -> None:
        await self.redis.connect()

    async def shutdown(self) -> None:
        if self._pending:  # each is bounded (SharedRedis.call)
            await asyncio.wait(set(self._pending))
        await self.redis.close()

    async def record(self, provider: str, outcome: str) -> None:
        if not self.redis.available() or len(self._pending) >= self.MAX_PENDING:
            await self._local.record(provider, outcome)
            return
        task = asyncio.get_running_loop().create_task(self._write(provider, outcome))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(self, provider: str, outcome: str) -> None:
        try:
            field = f"{provider}|{outcome}"
            await self.redis.call(lambda client: client.hincrby(self.KEY, field, 1))
        except Refused as error:  # Redis answered: not unreachable, but no count either
            self.redis.warn(error, "counting in this process only")
            await self._local.record(provider, outcome)
        except Unavailable as error:
            self.redis.unreachable(error)
            await self._local.record(provider, outcome)

    async def snapshot(self) -> dict[str, Any]:
        try:
            raw = await self.redis.call(lambda client: client.hgetall(self.KEY))
        except Unavailable as error:
            self.redis.unreachable(error)
            return {**await self._local.snapshot(), "scope": "process (redis unreachable)"}
        counts: Counter[tuple[str, str]] = Counter()
        for field, value in raw.items():
            provider, _, outcome = field.decode().partition("|")
            counts[(provider, outcome)] = int(value)
        counts.update(self._local.counts)  # what was counted while Redis was away
        return _summary(counts, "redis")
