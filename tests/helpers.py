"""Small honest tools for the tests: a real Hypercorn on loopback, and an SSE reader."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from messagebot import create_app
from messagebot.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    app: Quart
    url: str


@contextlib.asynccontextmanager
async def running(env: Mapping[str, str]) -> AsyncIterator[Server]:
    """The whole app, configured from `env`, in a real Hypercorn on a loopback port."""
    app = create_app(Settings.from_env(env))
    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(trust_env=False) as client:  # loopback: no proxy settings
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    break
            await asyncio.sleep(0.02)
        else:
            raise RuntimeError("the server did not come up")
    try:
        yield Server(app, url)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@dataclass
class SSE:
    """One event as a client sees it; `comment` for lines like `: ping`."""

    event: str | None
    data: Any = None
    comment: str | None = None
    at: float = 0.0


@dataclass
class StreamResult:
    status: int
    headers: httpx.Headers
    events: list[SSE] = field(default_factory=list)
    body: Any = None

    def named(self, name: str) -> list[SSE]:
        return [e for e in self.events if e.event == name]

    @property
    def sequence(self) -> list[str]:
        return [e.event or f":{e.comment}" for e in self.events]

    @property
    def text(self) -> str:
        return "".join(e.data["text"] for e in self.named("delta"))


async def parse_sse(lines: AsyncIterator[str]) -> AsyncIterator[SSE]:
    """Parse Server-Sent Events line by line, strictly: every data line must be JSON."""
    loop = asyncio.get_running_loop()
    event: str | None = None
    data: list[str] = []
    async for line in lines:
        if line == "":
            if event is not None or data:
                yield SSE(event, json.loads("\n".join(data)), at=loop.time())
            event, data = None, []
        elif line.startswith(":"):
            yield SSE(None, comment=line[1:].strip(), at=loop.time())
        elif line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: "):
            data.append(line[len("data: ") :])
        else:
            raise AssertionError(f"not an SSE line: {line!r}")


async def stream(client: httpx.AsyncClient, url: str, body: Any, **kwargs: Any) -> StreamResult:
    """POST and read the whole answer: SSE events for a 200 stream, JSON otherwise."""
    async with client.stream("POST", url, json=body, **kwargs) as response:
        result = StreamResult(response.status_code, response.headers)
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            async for item in parse_sse(response.aiter_lines()):
                result.events.append(item)
        else:
            raw = await response.aread()
            result.body = json.loads(raw) if raw else None
    return result


async def fake_log(client: httpx.AsyncClient, fake_url: str, tag: str) -> list[dict[str, Any]]:
    response = await client.get(fake_url.removesuffix("/v1") + "/_fake/log")
    return [r for r in response.json() if r["tag"] == tag]


async def wait_for_record(
    client: httpx.AsyncClient, fake: Any, tag: str, outcome: str, within: float = 5
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while loop.time() < end:
        records = await fake_log(client, fake.base_url, tag)
        if records and records[-1]["outcome"] == outcome:
            return records[-1]
        await asyncio.sleep(0.01)
    raise AssertionError(f"{tag}: upstream never saw {outcome}: {records}")


async def wait_until_up(client: httpx.AsyncClient, url: str, within: float = 20) -> httpx.Response:
    """Poll GET {url}/healthz until a server started in another process answers."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        try:
            return await client.get(f"{url}/healthz")
        except httpx.TransportError:
            if loop.time() > end:
                raise
            await asyncio.sleep(0.1)
