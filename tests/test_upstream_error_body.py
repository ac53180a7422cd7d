"""An upstream's error answer is read for its message, never whole: a reviewer found that a
non-2xx answer was read with `response.read()`, unbounded, so an upstream (or a proxy) that
sends a huge error page, or a long one slowly, held the request and its memory until the
first-token timeout. Now at most 64 KiB is read and a connection with more left is closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from .helpers import assert_error, running, wait_until
from .raw_upstream import raw_upstream

HUGE = 100 * 1024 * 1024


async def _huge_error_page() -> AsyncIterator[bytes]:
    yield (
        b"HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/html\r\n"
        + f"content-length: {HUGE}\r\n\r\n".encode()
    )
    yield b"<html>" + b"x" * (256 * 1024)
    while True:  # the rest, slowly: it would take hours to send it all
        await asyncio.sleep(0.05)
        yield b"x" * 1024


async def test_a_huge_error_page_is_not_read_whole(client: httpx.AsyncClient) -> None:
    async with raw_upstream() as upstream:
        upstream.replies["huge"] = _huge_error_page()
        env = upstream.env(MESSAGEBOT_UPSTREAM_RETRIES="0", MESSAGEBOT_FIRST_TOKEN_TIMEOUT_S="20")
        async with running(env) as server:
            body = {"relation": "wife", "reason": "birthday [[raw huge]]"}
            response = await client.post(f"{server.url}/v1/messages", json=body, timeout=60)
            # Before: the whole page was awaited, and the request ended at the first-token
            # timeout as 504 upstream_timeout.
            assert_error(response, 502, "upstream_error")
            record = await wait_until(
                lambda: upstream.records["huge"].outcome != "open" and upstream.records["huge"],
                within=10,
                what="the upstream connection closed",
            )
            assert record.outcome == "client_closed", record
            assert record.written < HUGE
