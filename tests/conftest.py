from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from messagebot.fake_upstream import FakeUpstream

from .helpers import Server, running


@pytest.fixture(scope="session")
async def fake() -> AsyncIterator[FakeUpstream]:
    upstream = FakeUpstream(chunks=12, delay=0.0)
    await upstream.start()
    yield upstream
    await upstream.stop()


def openai_env(fake: FakeUpstream, **extra: str) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "sk-test",
        "MESSAGEBOT_MODEL": "fake-model",
        **extra,
    }


@pytest.fixture(scope="session")
async def server(fake: FakeUpstream) -> AsyncIterator[Server]:
    async with running(openai_env(fake)) as served:
        yield served


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as http:
        yield http
