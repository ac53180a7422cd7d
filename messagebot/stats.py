"""Usage counters for GET /v1/stats: messages generated, by provider, by outcome, and by key
(messages and tokens per API key name; docs/api.md, "Stats")."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any, Protocol

from .redis_connection import MAX_CONNECTIONS, Refused, SharedRedis, Unavailable

#: The outcome of a message dropped unseen because it came out the same as another of its
#: request (it is asked again): not a message the client got, nor a request of its own.
DUPLICATE = "duplicate"
#: What is counted per key name, besides the outcomes.
KEY_FIELDS = ("messages", "requests", "prompt_tokens", "completion_tokens")


def tokens(usage: dict[str, Any] | None, field: str) -> int:
    """A count from an upstream's usage, if it is a sane one (a whole number from 0): the
    upstream's JSON is not ours to trust."""
    value = (usage or {}).get(field)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**40:
        return value
    return 0


def key_counts(outcome: str, usage: dict[str, Any] | None) -> dict[str, int]:
    """What one message adds to its key's counts (KEY_FIELDS), zeros left out."""
    counts = {
        "messages": int(outcome in ("stop", "length")),
        "requests": int(outcome != DUPLICATE),
        "prompt_tokens": tokens(usage, "prompt_tokens"),
        "completion_tokens": tokens(usage, "completion_tokens"),
    }
    return {field: count for field, count in counts.items() if count}


class Stats(Protocol):
    async def record(
        self,
        provider: str,
        outcome: str,
        client: str = "anonymous",
        usage: dict[str, Any] | None = None,
    ) -> None: ...

    async def snapshot(self) -> dict[str, Any]: ...

    async def startup(self) -> None: ...

    async def shutdown(self) -> None: ...


def _summary(
    counts: Counter[tuple[str, str]], keys: Counter[tuple[str, str]], scope: str
) -> dict[str, Any]:
    by_provider: Counter[str] = Counter()
    by_outcome: Counter[str] = Counter()
    for (provider, outcome), count in counts.items():
        if outcome != DUPLICATE:
            by_provider[provider] += count
        by_outcome[outcome] += count
    by_key: dict[str, dict[str, int]] = {}
    for (client, field), count in sorted(keys.items()):
        by_key.setdefault(client, dict.fromkeys(KEY_FIELDS, 0))[field] = count
    return {
        "messages_generated": by_outcome["stop"] + by_outcome["length"],
        "requests": sum(by_outcome.values()) - by_outcome[DUPLICATE],
        "by_provider": dict(by_provider),
        "by_outcome": dict(by_outcome),
        "by_key": by_key,
        "scope": scope,
    }


class MemoryStats:
    """Counters of one process. Outcomes: stop, length, cancelled, or an error code."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()
        self.keys: Counter[tuple[str, str]] = Counter()  # (key name, KEY_FIELDS' field)

    async def record(
        self,
        provider: str,
        outcome: str,
        client: str = "anonymous",
        usage: dict[str, Any] | None = None,
    ) -> None:
        self.counts[(provider, outcome)] += 1
        for field, count in key_counts(outcome, usage).items():
            self.keys[(client, field)] += count

    async def snapshot(self) -> dict[str, Any]:
        return _summary(self.counts, self.keys, "process")

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
    KEYS = "messagebot:stats:keys"  # per key name: `name|field` (KEY_FIELDS)
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

    async def record(
        self,
        provider: str,
        outcome: str,
        client: str = "anonymous",
        usage: dict[str, Any] | None = None,
    ) -> None:
        if not self.redis.available() or len(self._pending) >= self.MAX_PENDING:
            await self._local.record(provider, outcome, client, usage)
            return
        task = asyncio.get_running_loop().create_task(self._write(provider, outcome, client, usage))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _write(
        self, provider: str, outcome: str, client: str, usage: dict[str, Any] | None
    ) -> None:
        by_key = key_counts(outcome, usage)

        async def write(redis: Any) -> Any:
            # One transaction: a message's outcome and its key's counts go in together, or
            # none (then all are counted here). MULTI on the call's own connection: redis-py's
            # pipeline() would take another connection, past MESSAGEBOT_REDIS_MAX_CONNECTIONS.
            await redis.execute_command("MULTI")
            try:
                await redis.execute_command("HINCRBY", self.KEY, f"{provider}|{outcome}", 1)
                for field, count in by_key.items():
                    await redis.execute_command("HINCRBY", self.KEYS, f"{client}|{field}", count)
            except BaseException:
                # Never leave the connection inside a transaction for its next user. (A
                # timeout or a dropped connection resets it anyway: SharedRedis.call.)
                with contextlib.suppress(Exception):
                    await redis.execute_command("DISCARD")
                raise
            done = await redis.execute_command("EXEC")
            failed = [item for item in done or () if isinstance(item, Exception)]
            if failed:  # one that Redis refused inside the transaction: say so, not silence
                raise failed[0]
            return done

        try:
            await self.redis.call(write)
        except Refused as error:  # Redis answered: not unreachable, but no count either
            self.redis.warn(error, "counting in this process only")
            await self._local.record(provider, outcome, client, usage)
        except Unavailable as error:
            self.redis.unreachable(error)
            await self._local.record(provider, outcome, client, usage)

    async def snapshot(self) -> dict[str, Any]:
        async def read(redis: Any) -> Any:
            return await redis.hgetall(self.KEY), await redis.hgetall(self.KEYS)

        try:
            raw, raw_keys = await self.redis.call(read)
        except Unavailable as error:
            self.redis.unreachable(error)
            return {**await self._local.snapshot(), "scope": "process (redis unreachable)"}
        counts: Counter[tuple[str, str]] = Counter()
        for field, value in raw.items():
            provider, _, outcome = field.decode().partition("|")
            counts[(provider, outcome)] = int(value)
        keys: Counter[tuple[str, str]] = Counter()
        for field, value in raw_keys.items():
            client, _, name = field.decode().rpartition("|")
            keys[(client, name)] = int(value)
        counts.update(self._local.counts)  # what was counted while Redis was away
        keys.update(self._local.keys)
        return _summary(counts, keys, "redis")
