"""A keep-alive connection survives an answer given before the request's body was read (a 429
from the rate limit, a 401, a 404): the next request on it gets its answer. Raw sockets, the
body sent a moment after the headers, as a slow mobile network would."""

from __future__ import annotations

import asyncio
import re

from messagebot.fake_upstream import FakeUpstream

from .conftest import openai_env
from .helpers import running

BODY = b'{"relation": "wife", "reason": "birthday"}'


async def answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    """One whole answer (Content-Length or chunked) off the connection."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in head.split("\r\n")[1:] if line)
    }
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while size := int((await reader.readline()).strip(), 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    return int(head[9:12]), headers


async def on_one_connection(
    url: str, requests: list[tuple[str, dict[str, str]]], pause: float = 0.02
) -> list[int]:
    """Each request's head, then (`pause` later) its body, then its answer, in turn."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    statuses = []
    try:
        for path, extra in requests:
            head = "".join(f"{name}: {value}\r\n" for name, value in extra.items())
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(BODY)}\r\n{head}\r\n".encode()
            )
            await writer.drain()
            await asyncio.sleep(pause)  # the answer may be out before the body is in
            writer.write(BODY)
            await writer.drain()
            status, headers = await asyncio.wait_for(answer(reader), 10)
            assert headers.get("connection") != "close", (path, status, headers)
            statuses.append(status)
    finally:
        writer.close()
    return statuses


async def test_the_connection_survives_a_429_before_the_body(fake: FakeUpstream) -> None:
    async with running(openai_env(fake, MESSAGEBOT_RATE_LIMIT="3/minute")) as server:
        requests = [("/v1/messages", {})] * 6 + [("/v1/messages/stream", {})] * 6
        assert await on_one_connection(server.url, requests) == [200] * 3 + [429] * 9


async def test_the_connection_survives_a_401_and_a_404_before_the_body(
    fake: FakeUpstream,
) -> None:
    async with running(openai_env(fake, MESSAGEBOT_API_KEYS="k1")) as server:
        requests = [
            ("/v1/messages", {}),
            ("/nowhere", {}),
            ("/v1/messages", {"X-API-Key": "wrong"}),
            ("/v1/messages", {"X-API-Key": "k1"}),
        ] * 3
        assert await on_one_connection(server.url, requests) == [401, 404, 401, 200] * 3


async def test_an_answer_before_a_large_body_says_connection_close(fake: FakeUpstream) -> None:
    """Too large to wait for (413): the answer says the connection ends, so the client does
    not send another request on it."""
    async with running(openai_env(fake)) as server:
        host, port = server.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(
                b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n" + b" " * 1000
            )
            await writer.drain()
            status, headers = await asyncio.wait_for(answer(reader), 10)
        finally:
            writer.close()
        assert status == 413
        assert headers["connection"] == "close"
        assert re.fullmatch(r"[0-9a-f]{32}", headers["x-request-id"])
