"""A keep-alive connection survives an answer given before the request's body was read (a 429
from the rate limit, a 401, a 404): the next request on it gets its answer. Raw sockets; a
request's body is sent only once its answer has begun to arrive (or half a second later), as
on a slow mobile network."""

from __future__ import annotations

import asyncio
import contextlib
import re

from messagebot.fake_upstream import FakeUpstream

from .helpers import openai_env, running

BODY = b'{"relation": "wife", "reason": "birthday"}'


async def rest_of_answer(reader: asyncio.StreamReader, head: bytes) -> tuple[int, dict[str, str]]:
    """The answer whose head is `head`, its body read off the connection (Content-Length or
    chunked)."""
    text = head.decode("latin-1")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in text.split("\r\n")[1:] if line)
    }
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while size := int((await reader.readline()).strip(), 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    return int(text[9:12]), headers


async def answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    return await rest_of_answer(reader, await reader.readuntil(b"\r\n\r\n"))


async def on_one_connection(
    url: str, requests: list[tuple[str, dict[str, str]]]
) -> tuple[list[int], list[bool]]:
    """Each request's head; its answer's head if it comes before the body (within 0.5 s: a
    429, 401 or 404 does), and only then the body; then the rest of the answer. Returns the
    statuses, and for each whether it was answered before its body was sent."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    statuses, early = [], []
    try:
        for path, extra in requests:
            head = "".join(f"{name}: {value}\r\n" for name, value in extra.items())
            writer.write(
                f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(BODY)}\r\n{head}\r\n".encode()
            )
            await writer.drain()
            answer_head = None
            with contextlib.suppress(TimeoutError):  # a 200 waits for the body
                answer_head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 0.5)
            early.append(answer_head is not None)
            writer.write(BODY)
            await writer.drain()
            if answer_head is None:
                answer_head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            status, headers = await asyncio.wait_for(rest_of_answer(reader, answer_head), 10)
            assert headers.get("connection") != "close", (path, status, headers)
            statuses.append(status)
    finally:
        writer.close()
    return statuses, early


async def test_the_connection_survives_a_429_before_the_body(fake: FakeUpstream) -> None:
    async with running(openai_env(fake, MESSAGEBOT_RATE_LIMIT="3/minute")) as server:
        requests = [("/v1/messages", {})] * 6 + [("/v1/messages/stream", {})] * 6
        statuses, early = await on_one_connection(server.url, requests)
        assert statuses == [200] * 3 + [429] * 9
        assert early == [False] * 3 + [True] * 9  # each 429 before its body


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
        statuses, early = await on_one_connection(server.url, requests)
        assert statuses == [401, 404, 401, 200] * 3
        assert early == [True, True, True, False] * 3


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
