"""A real redis-server (Debian's) for the tests, plain or TLS-only with a self-signed
certificate as Heroku's Redis add-on has it. The fixtures are in conftest.py."""

from __future__ import annotations

import asyncio
import shutil
import signal
from collections.abc import Sequence
from pathlib import Path

import pytest
from redis import asyncio as aioredis

from .helpers import free_port, wait_until


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
        #: The URL with the server's certificate as the CA to verify it by (redis-py's own
        #: URL option); for plain Redis, the URL.
        self.trusted_url = f"{self.url}?ssl_ca_certs={cert}" if cert else self.url


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


async def start_redis(
    tls_in: Path | None = None, options: Sequence[str] = (), password: str | None = None
) -> RedisServer:
    """A real redis-server (Debian's) on a free loopback port, with nothing saved to disk.
    With `tls_in` (a directory for its key and certificate), it speaks only TLS, with a
    self-signed certificate, as Heroku's Redis does; clients need no certificate. `options`
    are more of its command line (`--maxclients 10`, `--user …`); with `--requirepass P`,
    pass `password` P too, for the check that the server is up (its URL stays without)."""
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
        *options,
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
    server = RedisServer(port, process, cert)
    # The port was free when free_port() chose it, but another process may have taken it
    # before redis-server bound it: make sure that what answers there is ours.
    client = aioredis.Redis.from_url(server.trusted_url, password=password)
    try:
        answering = (await client.info("server"))["process_id"]
    finally:
        await client.aclose()
    assert answering == process.pid, f"port {port} is another Redis's ({answering})"
    return server


async def stop_redis(server: RedisServer) -> None:
    if server.process.returncode is None:
        server.process.send_signal(signal.SIGCONT)  # in case a test left it stopped
        server.process.terminate()
        await server.process.wait()
