from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from playwright.async_api import Browser

from messagebot.fake_upstream import FakeUpstream

from .browser import SIZES, chromium
from .helpers import Server, openai_env, running
from .redis_server import RedisServer, start_redis, stop_redis


@pytest.fixture(scope="session")
async def fake() -> AsyncIterator[FakeUpstream]:
    upstream = FakeUpstream(chunks=12, delay=0.0)
    await upstream.start()
    yield upstream
    await upstream.stop()


@pytest.fixture(scope="session")
async def server(fake: FakeUpstream) -> AsyncIterator[Server]:
    async with running(openai_env(fake)) as served:
        yield served


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium for the session; each test opens its own context (tabs, cookies)."""
    async with chromium() as launched:
        yield launched


@pytest.fixture(params=list(SIZES))
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    """A page test's window: a phone's, then a desktop's (tests/browser.py's SIZES)."""
    return SIZES[request.param]


@pytest.fixture
async def contexts(browser: Browser) -> AsyncIterator[list[Any]]:
    """The browser contexts a test opens (append them), closed after it."""
    opened: list[Any] = []
    yield opened
    for context in opened:
        await context.close()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield http


@pytest.fixture
async def redis_server() -> AsyncIterator[RedisServer]:
    server = await start_redis()
    yield server
    await stop_redis(server)


@pytest.fixture
async def tls_redis_server(tmp_path: Path) -> AsyncIterator[RedisServer]:
    server = await start_redis(tmp_path)
    yield server
    await stop_redis(server)


# Property tests (hypothesis): 2,000 examples per property in CI's run, fewer at a desk.
settings.register_profile(
    "ci", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=200, deadline=None)
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(_PROFILE)
