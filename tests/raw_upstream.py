"""An upstream that writes exactly the bytes a test chooses, over a real socket.

A test registers a reply under a key (`upstream.replies[key] = …`) and puts `[[raw key]]` in a
request's `reason`; the chat request that carries it gets that reply, byte for byte: the
status line and headers too, so a reply can be anything a broken server or proxy sends. A
reply is a list of byte strings, each written and flushed on its own with `pause` seconds
before the next (so that a reader most likely gets each as a read of its own; nothing in a
test may depend on that), or an async iterator of them (an endless line). The connection is
closed after the reply: a body without a length ends there.

`records[key]` says what happened: the bytes written, and whether the client hung up first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass

_KEY = re.compile(r"\[\[raw (\w+)\]\]")

SSE_HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n"


def event(content: str | None = None, finish_reason: str | None = None) -> bytes:
    """One chat chunk as a `data:` line, JSON escaped as a strict upstream escapes it
    (`ensure_ascii`: an emoji is `\\ud83c\\udf82`, a lone surrogate `\\ud83c`)."""
    delta = {} if content is None else {"content": content}
    chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
    return b"data: " + json.dumps(chunk, ensure_ascii=True).encode() + b"\n\n"


def sse_reply(contents: Iterable[str], *, end: bytes = b"") -> list[bytes]:
    """A whole, well-formed stream: the head, a chunk per content, a finish, [DONE]."""
    return [
        SSE_HEAD,
        *(event(content) for content in contents),
        event(finish_reason="stop") + b"data: [DONE]\n\n" + end,
    ]


@dataclass
class RawRecord:
    written: int = 0
    outcome: str = "open"  # open, completed, client_closed


Reply = list[bytes] | AsyncIterator[bytes]


class RawUpstream:
    def __init__(self, pause: float = 0.002) -> None:
        self.pause = pause
        self.replies: dict[str, Reply] = {}
        self.records: dict[str, RawRecord] = {}
        self.connections = 0  # accepted, whatever they then sent
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a MessageBot that talks to this upstream."""
        return {
            "OPENAI_BASE_URL": self.base_url,
            "OPENAI_API_KEY": "sk-test",
            "MESSAGEBOT_MODEL": "raw-model",
            **extra,
        }

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        record = RawRecord()
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            body = await reader.readexactly(int(length.group(1)) if length else 0)
            match = _KEY.search(body.decode())
            assert match is not None, f"a request without [[raw KEY]]: {body[:300]!r}"
            self.records[match.group(1)] = record
            reply = self.replies[match.group(1)]
            if isinstance(reply, list):
                for index, part in enumerate(reply):
                    if index:
                        await asyncio.sleep(self.pause)
                    await self._write(writer, reader, record, part)
            else:
                async for part in reply:
                    await self._write(writer, reader, record, part)
            record.outcome = "completed"
        except (ConnectionError, _ClientLeft):
            record.outcome = "client_closed"
        finally:
            writer.close()

    @staticmethod
    async def _write(
        writer: asyncio.StreamWriter,
        reader: asyncio.StreamReader,
        record: RawRecord,
        part: bytes,
    ) -> None:
        if reader.at_eof():  # the client hung up (its end of the connection is closed)
            raise _ClientLeft
        writer.write(part)
        await writer.drain()
        record.written += len(part)


class _ClientLeft(Exception):
    pass


@contextlib.asynccontextmanager
async def raw_upstream(pause: float = 0.002) -> AsyncIterator[RawUpstream]:
    upstream = RawUpstream(pause)
    await upstream.start()
    try:
        yield upstream
    finally:
        await upstream.stop()
