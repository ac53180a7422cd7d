"""Keys, the headers every response carries, and what workers share through a real Redis (one
rate limit, one count; failing open). The rate limit itself: test_ratelimit.py."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from messagebot.fake_upstream import FakeUpstream

from .helpers import free_port, openai_env, running, wait_until, wait_until_up, worker_pids
from .redis_server import RedisServer

BODY = {"relation": "wife", "reason": "birthday"}
PROTECTED = [
    ("POST", "/v1/messages"),
    ("POST", "/v1/messages/stream"),
    ("POST", "/streaming/"),
    ("GET", "/v1/stats"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
async def test_keys_guard_every_protected_route(
    fake: FakeUpstream, client: httpx.AsyncClient, method: str, path: str
) -> None:
    async with running(openai_env(fake, MESSAGEBOT_API_KEYS="k-one, k-two")) as server:
        url = f"{server.url}{path}"
        kwargs = {"json": BODY} if method == "POST" else {}
        for headers in (
            {},
            {"Authorization": "Bearer wrong"},
            {"X-API-Key": "k-one "[:4]},
            {"Authorization": "Basic k-one"},
            {"X-Page-Token": "forged.token"},
        ):
            response = await client.request(method, url, headers=headers, **kwargs)
            assert response.status_code == 401, headers
            assert response.json()["error"]["code"] == "unauthorized"
        for headers in (
            {"Authorization": "Bearer k-one"},
            {"X-API-Key": "k-two"},
            {"Authorization": "bearer k-two"},
        ):
            response = await client.request(method, url, headers=headers, **kwargs)
            assert response.status_code == 200, (headers, response.text)
        # Health, the docs and the page stay open.
        for open_path in ("/healthz", "/openapi.json", "/"):
            assert (await client.get(f"{server.url}{open_path}")).status_code == 200


async def test_security_headers_on_every_response(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async with running(openai_env(fake)) as server:
        responses = [
            await client.get(f"{server.url}/healthz"),
            await client.get(f"{server.url}/nope"),
            await client.post(f"{server.url}/v1/messages", json=BODY),
            await client.post(f"{server.url}/v1/messages/stream", json=BODY),
            await client.post(f"{server.url}/v1/messages", content=b"{"),
            await client.get(f"{server.url}/"),
        ]
        for response in responses:
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "no-referrer"
            assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert responses[2].headers["content-security-policy"].startswith("default-src 'none'")


# --- shared state through a real Redis ----------------------------------------------------


async def test_two_workers_share_one_limit_and_one_count(
    fake: FakeUpstream, redis_server: RedisServer, client: httpx.AsyncClient
) -> None:
    port = free_port()
    env = {
        **os.environ,
        **openai_env(fake),
        "REDIS_URL": redis_server.url,
        "MESSAGEBOT_RATE_LIMIT": "6/minute",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hypercorn",
        "--workers",
        "2",
        "--bind",
        f"127.0.0.1:{port}",
        "messagebot:create_app()",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_until_up(client, f"{url}")

        async def both_workers() -> bool:
            return len(await worker_pids(process.pid)) == 2

        await wait_until(both_workers, within=20, every=0.1, what="two Hypercorn workers")
        statuses = []
        for _ in range(12):
            # A new connection each time, so the kernel spreads them over both workers.
            async with httpx.AsyncClient(timeout=10) as fresh:
                statuses.append((await fresh.post(f"{url}/v1/messages", json=BODY)).status_code)
        assert statuses.count(200) == 6 and statuses.count(429) == 6, statuses

        async def counted() -> dict[str, Any] | None:
            stats: dict[str, Any] = (await client.get(f"{url}/v1/stats")).json()
            return stats if stats["messages_generated"] >= 6 else None

        # Counted as each generation ends, which may be a moment after its response.
        stats = await wait_until(counted, within=5, what="six messages counted")
        assert stats["scope"] == "redis"
        assert stats["messages_generated"] == 6
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)


async def test_redis_going_away_fails_open(
    fake: FakeUpstream,
    redis_server: RedisServer,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = openai_env(fake, REDIS_URL=redis_server.url, MESSAGEBOT_RATE_LIMIT="100/minute")
    async with running(env) as server:
        assert (await client.post(f"{server.url}/v1/messages", json=BODY)).status_code == 200

        def counted(count: int) -> Callable[[], Awaitable[dict[str, Any] | None]]:
            async def check() -> dict[str, Any] | None:
                stats: dict[str, Any] = (await client.get(f"{server.url}/v1/stats")).json()
                return stats if stats["messages_generated"] >= count else None

            return check

        # Counted as each generation ends, which may be a moment after its response.
        stats = await wait_until(counted(1), within=5, what="one message counted")
        assert stats["messages_generated"] == 1
        redis_server.process.kill()
        await redis_server.process.wait()
        for _ in range(3):
            response = await client.post(f"{server.url}/v1/messages/stream", json=BODY)
            assert response.status_code == 200
            assert "event: done" in response.text
        stats = await wait_until(counted(3), within=5, what="three messages counted")
        assert stats["scope"] == "process (redis unreachable)"
        assert stats["messages_generated"] == 3
    assert "Redis unreachable" in caplog.text
