"""Redis out of client slots (issue 24, items 1 and 2): a real redis-server with `--maxclients`,
every slot the workers do not hold taken by other clients. Redis then refuses each new
connection (`ERR max number of clients reached`), but the connections the workers have open
still work: the rate limit holds under a parallel burst (it used to open the breaker and let
every request through), and /healthz says the limit is enforced. Also: the pool's size is a
setting, parsed strictly."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from messagebot.config import ConfigError, Settings
from messagebot.fake_upstream import FakeUpstream

from .helpers import hypercorn, openai_env, sockets_by_process, wait_until
from .redis_server import RedisServer, start_redis, stop_redis
from .test_ratelimit import BUDGET, BURST, LIMIT, burst

MAXCLIENTS = 10


@pytest.fixture
async def small_redis() -> AsyncIterator[RedisServer]:
    server = await start_redis(options=["--maxclients", str(MAXCLIENTS)])
    yield server
    await stop_redis(server)


Held = list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]


async def take_every_free_slot(port: int) -> Held:
    """Connections to Redis, each answering a PING, until Redis refuses one for want of
    slots: the other clients of a plan's Redis (other apps, a console, more dynos)."""
    held: Held = []
    while len(held) <= MAXCLIENTS:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"PING\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.readline(), 5)
        if answer.startswith(b"-ERR max number of clients reached"):
            writer.close()
            return held
        assert answer == b"+PONG\r\n", answer
        held.append((reader, writer))
    raise AssertionError(f"Redis took more than {MAXCLIENTS} clients")


@contextlib.asynccontextmanager
async def stats_load(port: int, clients: int = 40) -> AsyncIterator[Counter[int]]:
    """`clients` loops of GET /v1/stats, each on a connection of its own, until the block
    ends; yields the statuses they got (filled in as they come)."""
    answered: Counter[int] = Counter()
    stop = asyncio.Event()

    async def ask(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            response = await client.get(f"http://127.0.0.1:{port}/v1/stats")
            answered[response.status_code] += 1

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(trust_env=False, limits=limits, timeout=30) as client:
        tasks = [asyncio.create_task(ask(client)) for _ in range(clients)]
        try:
            yield answered
        finally:
            stop.set()
            await asyncio.gather(*tasks)


async def steady(port: int, count: int, at_once: int) -> Counter[int]:
    """`count` POST /v1/messages, `at_once` at a time; their statuses."""
    statuses: Counter[int] = Counter()
    body = {"relation": "wife", "reason": "birthday"}
    limits = httpx.Limits(max_connections=at_once)
    async with httpx.AsyncClient(trust_env=False, limits=limits, timeout=30) as client:

        async def send(share: int) -> None:
            for _ in range(share):
                response = await client.post(f"http://127.0.0.1:{port}/v1/messages", json=body)
                statuses[response.status_code] += 1

        await asyncio.gather(*(send(count // at_once) for _ in range(at_once)))
    return statuses


async def health(port: int) -> dict[str, Any]:
    async with httpx.AsyncClient(trust_env=False) as client:
        response = await client.get(f"http://127.0.0.1:{port}/healthz")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize("workers", [1, 2])
async def test_a_full_redis_is_busy_not_down_and_the_limit_holds(
    fake: FakeUpstream, small_redis: RedisServer, workers: int, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    env = openai_env(fake, REDIS_URL=small_redis.url, MESSAGEBOT_RATE_LIMIT=LIMIT)
    async with hypercorn(env, workers, log) as (port, pids):
        # Every worker has answered /healthz (hypercorn() makes sure), so it holds a
        # connection to Redis; wait until the kernel lists them.
        def connected() -> dict[int, int] | None:
            held = sockets_by_process(small_redis.port, pids, remote=True)
            counts = {pid: len(held.get(pid, [])) for pid in pids}
            return counts if all(counts.values()) else None

        await wait_until(connected, within=10, every=0.05, what="every worker connected")
        others = await take_every_free_slot(small_redis.port)
        try:
            print(f"{workers} worker(s); other clients hold {len(others)} of {MAXCLIENTS}")
            statuses, _ = await burst(port, {}, pids if workers > 1 else None)
            print(f"burst of {BURST}, {workers} worker(s), Redis full: {dict(statuses)}")
            assert set(statuses) <= {200, 429}, statuses
            # Every request decided in Redis: exactly the budget passes.
            assert statuses[200] == BUDGET, (statuses, log.read_text()[-3000:])
            # The budget spent, 100 more requests, 10 at a time, while 40 clients keep asking
            # for /v1/stats (the counters use the same connections as the limit): each is
            # checked, so none passes.
            async with stats_load(port) as answered:
                more = await steady(port, 100, 10)
            print(f"then {dict(more)}, /v1/stats answered {dict(answered)} meanwhile")
            assert more == {429: 100}, (more, log.read_text()[-3000:])
            assert set(answered) == {200} and answered[200] >= 40, answered
            body = await health(port)
            assert body["rate_limit"] == "enforced", body
            assert body["redis"] == "ok", body
            assert "maxclients" in log.read_text()  # the refusals are said, as what they are
        finally:
            for _, writer in others:
                writer.close()


def test_the_pool_size_is_a_whole_number_per_worker() -> None:
    assert Settings.from_env({}).redis_max_connections == 4
    env = {"MESSAGEBOT_REDIS_MAX_CONNECTIONS": " 2 "}
    assert Settings.from_env(env).redis_max_connections == 2
    for wrong in ("0", "-1", "2.5", "two", "1001"):
        with pytest.raises(ConfigError, match="MESSAGEBOT_REDIS_MAX_CONNECTIONS"):
            Settings.from_env({"MESSAGEBOT_REDIS_MAX_CONNECTIONS": wrong})


async def test_with_no_connection_open_a_full_redis_costs_no_wait(
    small_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A worker that has no connection yet when Redis is full cannot check the limit: its
    requests pass at once (not after waiting 5 s each for a connection that cannot come),
    the limiter says it is not enforced, and once a slot is free the limit is back."""
    from messagebot.config import parse_rate_limit
    from messagebot.web.ratelimit import RedisLimiter

    limit = parse_rate_limit("1000/hour")
    limiter = RedisLimiter(small_redis.url)
    await limiter.startup()
    pool = limiter._redis.pool
    others = await take_every_free_slot(small_redis.port)
    try:
        hits = asyncio.gather(*(limiter.hit("messagebot:rate:n", limit) for _ in range(20)))
        # A deadline, not a speed goal (these machines are shared): only hits that hang
        # fail here; that none waited for a connection is what waited_out counts.
        try:
            verdicts = await asyncio.wait_for(hits, timeout=30)
        except TimeoutError:
            raise AssertionError("the hits hung on a full Redis for 30 s") from None
        assert verdicts == [None] * 20  # let through, unchecked
        # Each was told at once that no connection could come: none waited its queue time
        # (5 s) out for a turn, and none counts as Redis failing (it answers: it is full).
        assert pool.waited_out == 0, pool.waited_out
        assert pool.unanswered == 0, pool.unanswered
        assert not await limiter.enforced()
        assert "maxclients" in caplog.text
        _, writer = others.pop()
        writer.close()

        async def checked_again() -> bool:
            return await limiter.hit("messagebot:rate:n", limit) is not None

        await wait_until(checked_again, within=10, every=0.05, what="the limit checked again")
        assert await limiter.enforced()
    finally:
        for _, writer in others:
            writer.close()
        await limiter.shutdown()


async def test_a_connection_redis_closed_is_opened_again_not_a_failure(
    redis_server: RedisServer,
) -> None:
    """Redis closes connections of its own accord (idle ones after its `timeout`: 300 s on
    Heroku; CLIENT KILL here): the next call opens a fresh one and the limit is checked,
    rather than the breaker opening and the request passing unchecked."""
    from redis import asyncio as aioredis

    from messagebot.config import parse_rate_limit
    from messagebot.web.ratelimit import RedisLimiter

    limit = parse_rate_limit("1000/hour")
    limiter = RedisLimiter(redis_server.url)
    await limiter.startup()
    admin = aioredis.Redis(port=redis_server.port)
    try:
        for _ in range(3):
            assert await limiter.hit("messagebot:rate:k", limit) is not None
            killed = await admin.client_kill_filter(_type="normal", skipme=True)
            assert killed >= 1, killed
            assert await limiter.hit("messagebot:rate:k", limit) is not None
            assert await limiter.enforced()
    finally:
        await admin.aclose()
        await limiter.shutdown()
