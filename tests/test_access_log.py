"""The request log is one JSON line per request, whatever a client puts in its URL path: line
and paragraph separators, C1 controls (U+0085), DEL, bidi overrides and the like arrive
escaped. Over a raw socket, percent-encoded (Hypercorn decodes them into the path; sent as raw
bytes, h11 refuses the request line with a 400 before the app sees it)."""

from __future__ import annotations

import asyncio
import json
import logging
import unicodedata
from collections.abc import Iterator

import pytest

from messagebot.fake_upstream import FakeUpstream

from .helpers import openai_env, running, wait_until

# (as sent in the request line, the path Hypercorn decodes it to)
PATHS = [
    (b"/pct%E2%80%A8sep", "/pct\u2028sep"),
    (b"/pct%E2%80%A9par", "/pct\u2029par"),
    (b"/pct%C2%85nel", "/pct\x85nel"),
    (b"/pct%E2%80%AEbidi", "/pct\u202ebidi"),
    (b"/pct%7Fdel", "/pct\x7fdel"),
    (b"/pct%0D%0Acrlf", "/pct\r\ncrlf"),
    (b"/pct%1Cfs", "/pct\x1cfs"),
    (b"/plain/%ED%95%9C", "/plain/\ud55c"),  # Korean stays readable
]


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    handler = Lines()
    logger = logging.getLogger("messagebot.access")
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler.lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


async def test_paths_reach_the_log_escaped(fake: FakeUpstream, access_lines: list[str]) -> None:
    async with running(openai_env(fake)) as server:
        host, port = server.url.removeprefix("http://").split(":")
        access_lines.clear()  # the start's health checks
        for raw, _ in PATHS:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET " + raw + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            await writer.drain()
            assert (await asyncio.wait_for(reader.read(), 10)).startswith(b"HTTP/1.1 404")
            writer.close()
        await wait_until(lambda: len(access_lines) >= len(PATHS), within=5, what="log lines")
    for line, (_, path) in zip(access_lines, PATHS, strict=True):
        # One line to every reader (str.splitlines breaks at U+2028, U+0085, \x1c…)…
        assert len(line.splitlines()) == 1, line
        assert not [c for c in line if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")], line
        # …that is still JSON with the path as it was.
        assert json.loads(line)["path"] == path
    assert "/plain/\ud55c" in access_lines[-1]


async def test_a_failed_request_logs_its_error_code(
    fake: FakeUpstream, access_lines: list[str]
) -> None:
    """The code the client was told: of an error answer, or of the error event that ended its
    stream; a request that went well has none."""
    import httpx

    body = {"name": "Minji", "relation": "wife", "reason": "birthday"}
    async with running(openai_env(fake)) as server, httpx.AsyncClient() as client:
        access_lines.clear()
        await client.post(f"{server.url}/v1/messages", json={"relation": ""})
        await client.post(f"{server.url}/v1/messages", json=body)
        dropped = {**body, "reason": "birthday [[fake drop_after=2]]"}
        await client.post(f"{server.url}/v1/messages/stream", json=dropped)
        await wait_until(lambda: len(access_lines) >= 3, within=5, what="log lines")
    invalid, fine, failed_stream = (json.loads(line) for line in access_lines[:3])
    assert (invalid["status"], invalid["error"]) == (422, "invalid_request")
    assert fine["status"] == 200 and "error" not in fine
    assert (failed_stream["status"], failed_stream["error"]) == (200, "upstream_error")
    assert failed_stream["finish_reason"] == "upstream_error"
