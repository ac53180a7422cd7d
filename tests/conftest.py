from __future__ import annotations

import asyncio
import os
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

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
    def __init__(
        self, port: int, process: asyncio.subprocess.Process, cert: Path | None = None
    ) -> None:
        self.port = port
        self.process = process
        #: With TLS: the server's self-signed certificate (also its own CA).
        self.cert = cert
        scheme = "rediss" if cert else "redis"
        self.url = f"{scheme}://127.0.0.1:{port}/0"


async def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A key and a self-signed certificate for 127.0.0.1 (openssl), valid for a day."""
    key, cert = directory / "redis.key", directory / "redis.crt"
    openssl = await asyncio.create_subprocess_exec(
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        "-keyout", str(key), "-out", str(cert),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    assert await openssl.wait() == 0, "openssl could not make a certificate"
    return key, cert


async def start_redis(tls_in: Path | None = None) -> RedisServer:
    """A real redis-server (Debian's) on a free loopback port, with nothing saved to disk.
    With `tls_in` (a directory for its key and certificate), it speaks only TLS, with a
    self-signed certificate, as Heroku's Redis does; clients need no certificate."""
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed: run the README's test command")
    port = free_port()
    listen = ["--port", str(port)]
    cert = None
    if tls_in is not None:
        key, cert = await self_signed_certificate(tls_in)
        listen = [
            "--port", "0", "--tls-port", str(port),
            "--tls-cert-file", str(cert), "--tls-key-file", str(key),
            "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no",
        ]  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        "redis-server",
        *listen,
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
    return RedisServer(port, process, cert)


async def stop_redis(server: RedisServer) -> None:
    if server.process.returncode is None:
        server.process.send_signal(signal.SIGCONT)  # in case a test left it stopped
        server.process.terminate()
        await server.process.wait()


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
