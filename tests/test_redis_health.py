"""Redis over TLS as Heroku hands it out (MESSAGEBOT_REDIS_VERIFY), and /healthz saying whether
Redis answers, against a real redis-server: a TLS one with a self-signed certificate made in
the test, and a plain one stopped with SIGSTOP."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import httpx
import pytest
from redis import asyncio as aioredis

from messagebot.config import ConfigError, Settings
from messagebot.fake_upstream import FakeUpstream
from messagebot.redis_connection import SharedRedis

from .helpers import openai_env, running, wait_until
from .redis_server import RedisServer

BODY = {"relation": "wife", "reason": "birthday"}


async def statuses(client: httpx.AsyncClient, url: str, count: int) -> list[int]:
    return [(await client.post(f"{url}/v1/messages", json=BODY)).status_code for _ in range(count)]


async def health(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await client.get(f"{url}/healthz")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_a_self_signed_certificate_verified_is_refused_and_said(
    fake: FakeUpstream, tls_redis_server: RedisServer, client: httpx.AsyncClient
) -> None:
    """VERIFY on (the default) against a self-signed certificate: every call fails, so the
    limit is not enforced, and /healthz says so instead of "ok"."""
    env = openai_env(fake, REDIS_URL=tls_redis_server.url, MESSAGEBOT_RATE_LIMIT="3/minute")
    async with running(env) as server:
        assert await statuses(client, server.url, 5) == [200] * 5  # fail open
        assert (await health(client, server.url))["redis"] == "unreachable"


async def test_verify_off_reaches_heroku_style_redis(
    fake: FakeUpstream, tls_redis_server: RedisServer, client: httpx.AsyncClient
) -> None:
    env = openai_env(
        fake,
        REDIS_URL=tls_redis_server.url,
        MESSAGEBOT_RATE_LIMIT="3/minute",
        MESSAGEBOT_REDIS_VERIFY="off",
    )
    async with running(env) as server:
        assert await statuses(client, server.url, 4) == [200, 200, 200, 429]
        assert (await health(client, server.url))["redis"] == "ok"

        async def counted() -> bool:
            stats = (await client.get(f"{server.url}/v1/stats")).json()
            return bool(stats["scope"] == "redis" and stats["messages_generated"] == 3)

        await wait_until(counted, within=5, what="three messages counted in Redis")


async def test_verify_on_with_the_servers_ca_holds_the_limit(
    fake: FakeUpstream, tls_redis_server: RedisServer, client: httpx.AsyncClient
) -> None:
    """Verification is real, not a refusal of every TLS server: given the CA (redis-py's own
    URL option), VERIFY on connects, and the limit holds."""
    env = openai_env(fake, REDIS_URL=tls_redis_server.trusted_url, MESSAGEBOT_RATE_LIMIT="3/minute")
    async with running(env) as server:
        assert await statuses(client, server.url, 4) == [200, 200, 200, 429]
        assert (await health(client, server.url))["redis"] == "ok"


async def test_health_says_nothing_of_redis_without_it(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async with running(openai_env(fake)) as server:
        assert "redis" not in await health(client, server.url)


async def test_a_frozen_redis_is_asked_by_no_request_once_the_breaker_is_open(
    fake: FakeUpstream, redis_server: RedisServer, client: httpx.AsyncClient
) -> None:
    """SIGSTOP: the request under way when Redis froze finds out (its call is bounded: it is
    answered while Redis is still stopped); after that no request, /healthz included (which
    says `unreachable`), asks Redis at all, so none pays a Redis timeout. SIGCONT: /healthz
    says ok again and the limit is enforced again, within a deadline.

    Counted, not timed (a busy shared machine stretches any time): a stopped redis-server's
    kernel still accepts connections and holds what is sent on them, and once it runs again
    it counts each (INFO's total_connections_received). With one connection (MAX_CONNECTIONS
    1), which the failure closes, every later try is a new connection. Only the breaker's
    probe may make them, one each RETRY_S at most (it sleeps that long before each try): so
    over the whole stop, at most its duration / RETRY_S. Each of the 22 requests made while
    the breaker is open would add one or more if it asked (and pay a timeout, 0.5 s, for
    each): without the breaker, 17 in 9.2 s."""
    env = openai_env(
        fake,
        REDIS_URL=redis_server.url,
        MESSAGEBOT_RATE_LIMIT="1000/hour",
        MESSAGEBOT_REDIS_MAX_CONNECTIONS="1",
    )
    loop = asyncio.get_running_loop()
    watcher = aioredis.Redis.from_url(redis_server.url, single_connection_client=True)

    async def connections() -> int:
        return int((await watcher.info("stats"))["total_connections_received"])

    async with watcher, running(env) as server:
        assert (await health(client, server.url))["redis"] == "ok"
        assert (await client.post(f"{server.url}/v1/messages", json=BODY)).status_code == 200

        async def counted() -> bool:  # the message's count (written after it) is in Redis
            stats = (await client.get(f"{server.url}/v1/stats")).json()
            return bool(stats["scope"] == "redis" and stats["messages_generated"] == 1)

        await wait_until(counted, within=5, what="the message counted in Redis")
        before = await connections()  # the watcher's own is counted by now
        stopped_at = loop.time()
        redis_server.process.send_signal(signal.SIGSTOP)
        try:
            # The first one finds out: its call on the open connection fails (bounded by
            # SharedRedis.CALL_S), which opens the breaker; the request passes.
            first = await client.post(f"{server.url}/v1/messages", json=BODY)
            assert first.status_code == 200
            assert (await health(client, server.url))["redis"] == "unreachable"
            # From then on, Redis is not asked: messages (the limit and the count), health,
            # stats.
            for _ in range(10):
                response = await client.post(f"{server.url}/v1/messages", json=BODY)
                assert response.status_code == 200
                assert "ratelimit-remaining" not in response.headers  # not decided in Redis
                assert (await health(client, server.url))["redis"] == "unreachable"
            response = await client.get(f"{server.url}/v1/stats")
            assert response.json()["scope"] == "process (redis unreachable)"
        finally:
            redis_server.process.send_signal(signal.SIGCONT)

        async def ok_again() -> bool:
            return bool((await health(client, server.url))["redis"] == "ok")

        await wait_until(ok_again, within=10, every=0.05, what="/healthz to say ok again")
        # Every connection tried while it was stopped has been accepted and counted by now
        # (the probe's own answered after them).
        tried = await connections() - before
        stopped_for = loop.time() - stopped_at
        assert 1 <= tried <= stopped_for / SharedRedis.RETRY_S, (tried, stopped_for)
        response = await client.post(f"{server.url}/v1/messages", json=BODY)
        assert "ratelimit-remaining" in response.headers  # checked in Redis again


def test_redis_verify_is_on_or_off() -> None:
    assert Settings.from_env({}).redis_verify is True
    assert Settings.from_env({"MESSAGEBOT_REDIS_VERIFY": "off"}).redis_verify is False
    assert Settings.from_env({"MESSAGEBOT_REDIS_VERIFY": "ON"}).redis_verify is True
    with pytest.raises(ConfigError, match="MESSAGEBOT_REDIS_VERIFY"):
        Settings.from_env({"MESSAGEBOT_REDIS_VERIFY": "nope"})
