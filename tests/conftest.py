from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import HealthCheck, settings

from messagebot.fake_upstream import FakeUpstream

from .helpers import Server, free_port, running, wait_until


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


class RedisServer:
    def __init__(self, port: int, process: asyncio.subprocess.Process) -> None:
        self.port = port
        self.process = process
        self.url = f"redis://127.0.0.1:{port}/0"


async def start_redis() -> RedisServer:
    """A real redis-server (Debian's) on a free loopback port, with nothing saved to disk."""
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed: run the README's test command")
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        stdout=asyncio.subprocess.DEVNULL,
    )

    async def accepting() -> bool:
        if process.returncode is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return False
        writer.close()
        return True

    await wait_until(accepting, within=30, every=0.02, what="redis-server to start")
    return RedisServer(port, process)


@pytest.fixture
async def redis_server() -> AsyncIterator[RedisServer]:
    server = await start_redis()
    yield server
    if server.process.returncode is None:
        server.process.terminate()
        await server.process.wait()


# Property tests (hypothesis): 2,000 examples per property in CI's run, fewer at a desk.
settings.register_profile(
    "ci", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=200, deadline=None)
_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
settings.load_profile(_PROFILE)
