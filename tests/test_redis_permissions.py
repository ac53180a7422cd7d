"""A Redis that answers but will not do what the limiter needs (issue 24, items 2 and 9), on
a real redis-server: an ACL user that may not run scripts, and a server that requires a
password the URL lacks. /healthz says whether the limit is enforced (the limiter's own state,
not a PING's), and the log says what is wrong and what to do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from messagebot.fake_upstream import FakeUpstream

from .helpers import openai_env, running
from .redis_server import RedisServer, start_redis, stop_redis

BODY = {"relation": "wife", "reason": "birthday"}
PASSWORD = "s3cret-Pass"


@pytest.fixture
async def scriptless_redis() -> AsyncIterator[RedisServer]:
    """A user `app` that may do everything but run scripts (`-@scripting`)."""
    user = ["--user", "app", "on", f">{PASSWORD}", "~*", "&*", "+@all", "-@scripting"]
    server = await start_redis(options=user)
    yield server
    await stop_redis(server)


@pytest.fixture
async def password_redis() -> AsyncIterator[RedisServer]:
    server = await start_redis(options=["--requirepass", PASSWORD], password=PASSWORD)
    yield server
    await stop_redis(server)


async def health(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await client.get(f"{url}/healthz")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


async def test_a_user_that_cannot_run_scripts_is_said_and_not_enforced(
    fake: FakeUpstream,
    scriptless_redis: RedisServer,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"redis://app:{PASSWORD}@127.0.0.1:{scriptless_redis.port}/0"
    env = openai_env(fake, REDIS_URL=url, MESSAGEBOT_RATE_LIMIT="1/hour")
    async with running(env) as server:
        body = await health(client, server.url)
        # Redis answers a PING; the limit is not enforced all the same.
        assert body["redis"] == "ok", body
        assert body["rate_limit"] == "not enforced", body
        for _ in range(3):  # fail open, as with Redis away
            response = await client.post(f"{server.url}/v1/messages", json=BODY)
            assert response.status_code == 200, response.text
        assert (await health(client, server.url))["rate_limit"] == "not enforced"
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    said = [m for m in errors if "NOT enforced" in m and "permission to run scripts" in m]
    assert said, errors
    assert "NOPERM" in said[0] or "no permissions" in said[0], said
    # Redis was reached: nothing calls it unreachable.
    assert "unreachable" not in caplog.text.lower(), caplog.text


async def test_a_password_missing_from_the_url_is_said(
    fake: FakeUpstream,
    password_redis: RedisServer,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = openai_env(fake, REDIS_URL=password_redis.url, MESSAGEBOT_RATE_LIMIT="1/hour")
    async with running(env) as server:
        body = await health(client, server.url)
        assert body["redis"] == "unreachable", body
        assert body["rate_limit"] == "not enforced", body
        response = await client.post(f"{server.url}/v1/messages", json=BODY)
        assert response.status_code == 200, response.text
    assert (
        "Redis requires a password: put it in REDIS_URL (redis://:PASSWORD@host:port)"
        in caplog.text
    ), caplog.text
    # It answered: it is not called unreachable.
    assert "Redis refuses our credentials" in caplog.text, caplog.text
    assert "unreachable," not in caplog.text, caplog.text
    assert PASSWORD not in caplog.text


async def test_the_password_in_the_url_works(
    fake: FakeUpstream, password_redis: RedisServer, client: httpx.AsyncClient
) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{password_redis.port}/0"
    env = openai_env(fake, REDIS_URL=url, MESSAGEBOT_RATE_LIMIT="1/hour")
    async with running(env) as server:
        body = await health(client, server.url)
        assert (body["redis"], body["rate_limit"]) == ("ok", "enforced"), body
        statuses = [
            (await client.post(f"{server.url}/v1/messages", json=BODY)).status_code
            for _ in range(2)
        ]
        assert statuses == [200, 429]


async def test_health_says_the_in_memory_limit_is_enforced(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async with running(openai_env(fake, MESSAGEBOT_RATE_LIMIT="5/minute")) as server:
        body = await health(client, server.url)
        assert body["rate_limit"] == "enforced" and "redis" not in body, body
    async with running(openai_env(fake)) as server:
        assert "rate_limit" not in await health(client, server.url)
