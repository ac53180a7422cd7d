"""Redis over TLS as Heroku hands it out (MESSAGEBOT_REDIS_VERIFY), and /healthz saying whether
Redis answers, against a real redis-server: a TLS one with a self-signed certificate made in
the test, and a plain one stopped with SIGSTOP."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import httpx
import pytest

from messagebot.config import ConfigError, Settings
from messagebot.fake_upstream import FakeUpstream

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


async def test_a_frozen_redis_costs_health_and_requests_milliseconds(
    fake: FakeUpstream, redis_server: RedisServer, client: httpx.AsyncClient
) -> None:
    """SIGSTOP: the requests under way when Redis froze wait for it at most about a second;
    after that every request, /healthz included (which says `unreachable`), is answered in
    milliseconds, and the stats write at the end of a generation holds nothing up. SIGCONT:
    /healthz says ok again and the limit is enforced again, within a deadline."""
    env = openai_env(fake, REDIS_URL=redis_server.url, MESSAGEBOT_RATE_LIMIT="1000/hour")
    loop = asyncio.get_running_loop()

    async def timed(method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, float]:
        started = loop.time()
        response = await client.request(method, f"{server.url}{path}", **kwargs)
        return response, loop.time() - started

    async with running(env) as server:
        assert (await health(client, server.url))["redis"] == "ok"
        assert (await client.post(f"{server.url}/v1/messages", json=BODY)).status_code == 200
        redis_server.process.send_signal(signal.SIGSTOP)
        try:
            # The first ones find out (each bounded by SharedRedis.CALL_S, 1 s).
            first, took = await timed("POST", "/v1/messages", json=BODY)
            assert first.status_code == 200 and took < 1.8, took
            health_first, took = await timed("GET", "/healthz")
            assert health_first.json()["redis"] == "unreachable" and took < 1.0, took
            # From then on, milliseconds: messages (the limit and the count), health, stats.
            times = []
            for _ in range(10):
                response, took = await timed("POST", "/v1/messages", json=BODY)
                assert response.status_code == 200
                times.append(took)
                response, took = await timed("GET", "/healthz")
                assert response.json()["redis"] == "unreachable"
                times.append(took)
            response, took = await timed("GET", "/v1/stats")
            assert response.json()["scope"] == "process (redis unreachable)"
            times.append(took)
            # Before the breaker, each paid a timeout (0.5 s) or two: here the typical one
            # takes milliseconds, and none comes near a timeout even on a busy machine.
            assert sorted(times)[len(times) // 2] < 0.1, times
            assert max(times) < 0.45, times
        finally:
            redis_server.process.send_signal(signal.SIGCONT)

        async def ok_again() -> bool:
            return bool((await health(client, server.url))["redis"] == "ok")

        await wait_until(ok_again, within=10, every=0.05, what="/healthz to say ok again")
        response = await client.post(f"{server.url}/v1/messages", json=BODY)
        assert "ratelimit-remaining" in response.headers  # checked in Redis again


def test_redis_verify_is_on_or_off() -> None:
    assert Settings.from_env({}).redis_verify is True
    assert Settings.from_env({"MESSAGEBOT_REDIS_VERIFY": "off"}).redis_verify is False
    assert Settings.from_env({"MESSAGEBOT_REDIS_VERIFY": "ON"}).redis_verify is True
    with pytest.raises(ConfigError, match="MESSAGEBOT_REDIS_VERIFY"):
        Settings.from_env({"MESSAGEBOT_REDIS_VERIFY": "nope"})
