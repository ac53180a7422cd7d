"""An OpenAI-compatible fake upstream: deterministic text, a token delay, and injected failures.

Run it by hand (`python -m messagebot.fake_upstream --port 9000`) for load tests, or from the
tests. It speaks plain HTTP/1.1 over asyncio streams, so it can fail the way real servers do:
drop a connection mid-stream, send garbage, hang after the headers.

A request picks its behaviour with a directive anywhere in its messages, for instance in the
`reason` field: `[[fake chunks=5 delay=0.1 drop_after=2 tag=t1]]`. Keys:
  status=N retry_after=S    answer HTTP N (429, 500, 400, 401…) instead of streaming
  chunks=N delay=S          how many pieces, and the pause before each; `chunks=all` sends the
                            text once, whole (N pieces cycle through the text otherwise)
  split=word|token|char     how the text is cut into pieces (default: word):
                              word   "Happy ", "birthday! " (a word and the spaces after it)
                              token  as real upstreams send it (OpenAI, vLLM, llama.cpp: one
                                     token per chunk): "Happy", " birth", "day", "!",
                                     " Wishing"; a space leads its word, every punctuation
                                     mark and newline is a piece of its own, long words and
                                     Korean come in short pieces ("생일", " 축하", "해", "!")
                              char   one character per chunk, as some servers do
  headers_delay=S           wait before sending the response headers
  drop_after=K              close the connection after K pieces, without [DONE]
  garbage_after=K           send a line that is not JSON after K pieces
  error_after=K             send an error payload inside the 200 stream after K pieces
  hang_after=K              stop sending after K pieces, keeping the connection open
  reply=KEY                 send the pieces registered under KEY (POST /_fake/replies) as
                            registered; with split=, their text joined and cut that way. Keys
                            registered with `variants` (a list of piece lists) send the k-th
                            request with that key the variant k modulo their number
  n=honour                  write the request's `n` choices in one reply, as OpenAI does: the
                            chunks of choice i (seed + i; the next variant) interleaved, each
                            naming its `index`, each choice ending with its finish_reason;
                            without it, the fake writes one choice whatever `n` says, as
                            llama.cpp's server and Ollama do. Faults count pieces of the reply;
                            each choice comes at the rate of one (delay / n before each piece)
  interleave=K              with n=honour: the order of the choices' chunks drawn by a random
                            generator seeded K (each choice's own order kept); else in turn
  faulty=K                  the faults below only for the K-th request (from 0) of its tag, so
                            that one of a request's n messages fails and the others do not
  lang=ko|en                the default text's language (default: ko if the prompt asks for Korean)
  no_usage=1                no usage chunk, even when asked for
  refuse=stream_options     answer 400 to a request that has `stream_options`, naming it, as
                            servers that refuse unknown fields do ("Unrecognized request
                            argument supplied: stream_options", Azure OpenAI's words);
                            with refuse_status=422, FastAPI's 422 for an extra field instead
  tag=NAME                  a name to find the request by in GET /_fake/log (?tag=NAME: only
                            that name's requests)

Whatever the split, the pieces joined are the text (`pieces_for`). With delay > 0 each piece is
written and flushed on its own after its pause, so that a reader gets each piece as a read of
its own; with no delay, pieces follow each other at once and a reader gets several in one read.

Usage is sent as OpenAI sends it: only when the request asks with `stream_options:
{"include_usage": true}`, as a last chunk with empty `choices` and the reply's `usage` (its
completion tokens are its pieces, all choices' together; its prompt tokens the prompt's words).

A request with a `seed` (one of the service's n messages) gets the default text's sentences
rotated by the seed: up to 4 seeds in a row (5 in Korean) give texts that begin differently.

A path under /moved/ answers 307 with the same path without /moved (a base URL that redirects).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import re
import time
import urllib.parse
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

_DIRECTIVE = re.compile(r"\[\[fake((?:\s+[a-z_]+=[^\s\]]+)*)\s*\]\]")
#: The default replies, by language: plain messages with the punctuation real ones have
#: (commas, a colon, parentheses, quotes, an apostrophe), ending with a space so that cycling
#: through one (`chunks=N`) reads on.
TEXTS = {
    "en": "Happy birthday! Wishing you a day full of joy, laughter and everything you love. "
    'Tonight\'s plan: cake (chocolate, of course) and "our" song. '
    "Thank you for always being there for me. ",
    "ko": "생일 축하해! 오늘 하루 웃음과 행복이 가득하길 바라. "
    '저녁 계획: 케이크(초콜릿 맛!), 긴 산책, 그리고 "우리 노래" 한 곡. '
    "올해도 좋은 일만 가득하길, 진심으로 응원할게. 항상 곁에 있어 줘서 고마워. ",
}
SPLITS = ("word", "token", "char")


# The request headers a test may check: what the SDK sends, and how the body is asked for.
_RECORDED_HEADERS = (
    "authorization",
    "content-type",
    "accept-encoding",
    "user-agent",
    "openai-organization",
    "openai-project",
)


@dataclass
class Record:
    """What the fake saw of one request, for tests to check (GET /_fake/log)."""

    id: int
    tag: str | None
    stream: bool
    model: str
    max_tokens: int | None
    messages: list[Any]
    headers: dict[str, str] = field(default_factory=dict)
    sent: int = 0
    n: int = 1  # the choices asked for
    seed: Any = None  # the request's `seed`, as sent
    choices: int = 1  # the choices written
    stream_options: Any = None  # as the request sent it (None: absent)
    outcome: str = "open"  # open, completed, client_closed, dropped, hung, error
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None


def parse_directive(messages: list[Any]) -> dict[str, str]:
    options: dict[str, str] = {}
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            for match in _DIRECTIVE.finditer(content):
                for pair in match.group(1).split():
                    key, _, value = pair.partition("=")
                    options[key] = value
    return options


# What a byte-pair tokenizer keeps together (after GPT-2's pre-tokenizer, but with every
# punctuation mark on its own): a newline alone, other white space, an English contraction's
# tail, a run of letters, a run of digits, or any other single character.
_ATOMS = re.compile(
    r"\n|[^\S\n]+|['’](?:s|t|re|ve|m|ll|d)(?![^\W\d_])|[^\W\d_]+|\d+|.", re.IGNORECASE
)
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _subwords(run: str) -> list[str]:
    """A run of letters as a tokenizer's vocabulary would cut it: short words whole, long ones
    in pieces of five letters ("every", "thing"), Hangul in one or two syllables."""
    if _HANGUL.match(run):
        sizes = itertools.cycle((2, 1))
    elif len(run) <= 7:
        return [run]
    else:
        sizes = itertools.cycle((5,))
    pieces: list[str] = []
    while run:
        size = next(sizes)
        pieces.append(run[:size])
        run = run[size:]
    return pieces


def _tokens(text: str) -> list[str]:
    pieces: list[str] = []
    lead = ""  # the space that leads the next word or mark, as in " birthday" or " ("
    for atom in _ATOMS.findall(text):
        if atom.isspace():
            if lead:
                pieces.append(lead)  # a space before a newline or more space: its own piece
            if atom == "\n":
                pieces.append(atom)
                lead = ""
            else:
                if len(atom) > 1:
                    pieces.append(atom[:-1])
                lead = atom[-1]
            continue
        words = _subwords(atom) if atom[0].isalpha() else [atom]
        pieces += [lead + words[0], *words[1:]]
        lead = ""
    if lead:
        pieces.append(lead)
    return pieces


def split_text(text: str, split: str = "word") -> list[str]:
    """`text` cut into pieces the way `split` says; joined, the pieces are `text`."""
    if split == "word":
        lead = re.match(r"\s*", text)
        head = [lead.group()] if lead and lead.group() else []
        return head + re.findall(r"\S+\s*", text)
    if split == "token":
        return _tokens(text)
    if split == "char":
        return list(text)
    raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")


def pieces_for(text: str, split: str = "word", chunks: int | None = None) -> list[str]:
    """The pieces the fake sends: `chunks` pieces cycling through `text`, or the text once."""
    pieces = split_text(text, split)
    if chunks is None:
        return pieces
    return list(itertools.islice(itertools.cycle(pieces), chunks)) if pieces else []


def reorder(text: str, seed: int) -> str:
    """The sentences of `text` rotated by `seed` modulo their number: as many seeds in a row
    as there are sentences (4 in English, 5 in Korean) begin differently."""
    sentences = [s for s in re.findall(r".*?[.!?](?:\s+|$)", text) if s.strip()]
    if not sentences:
        return text
    turn = seed % len(sentences)
    return "".join(sentences[turn:] + sentences[:turn])


class FakeUpstream:
    def __init__(self, *, chunks: int = 12, delay: float = 0.0, split: str = "word") -> None:
        split_text("", split)  # refuses an unknown split now rather than on each request
        self.chunks = chunks
        self.delay = delay
        self.split = split
        self.records: deque[Record] = deque(maxlen=10_000)
        self.replies: dict[str, list[str]] = {}
        self.variants: dict[str, list[list[str]]] = {}
        self._nth: dict[str, int] = {}  # requests seen per reply key and per tag
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = await asyncio.start_server(self._connection, host, port, backlog=2048)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one_request(reader, writer):
                pass
        except (
            ConnectionError,
            asyncio.IncompleteReadError,
            asyncio.LimitOverrunError,
            asyncio.CancelledError,
        ):
            pass  # the client hung up, or the fake is stopping
        finally:
            writer.close()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        keep_alive = headers.get("connection", "").lower() != "close"

        if path.startswith("/moved/"):
            location = {"location": path.removeprefix("/moved")}
            await _send_json(writer, 307, {"moved": True}, location)
            return keep_alive
        if method == "POST" and path.endswith("/chat/completions"):
            data = json.loads(body or b"{}")
            return await self._completion(data, headers, reader, writer) and keep_alive
        if method == "GET" and path.endswith("/models"):
            await _send_json(
                writer,
                200,
                {
                    "object": "list",
                    "data": [{"id": "fake-model", "object": "model", "owned_by": "messagebot"}],
                },
            )
        elif method == "GET" and path.partition("?")[0] == "/_fake/log":
            # ?tag=NAME: that tag's records only. A test polls for its own, and the whole log
            # (up to 10,000 records with their prompts: several MB of JSON in a full run) took
            # the event loop the tests share with the fake for up to a second per poll.
            query = urllib.parse.parse_qs(path.partition("?")[2])
            tags = query.get("tag")
            records = [r for r in self.records if tags is None or r.tag in tags]
            await _send_json(writer, 200, [asdict(r) for r in records])
        elif method == "POST" and path == "/_fake/replies":
            data = json.loads(body)
            if "variants" in data:
                self.variants[data["key"]] = [list(v) for v in data["variants"]]
                self._nth.pop(f"reply:{data['key']}", None)
            else:
                self.replies[data["key"]] = list(data["chunks"])
            await _send_json(writer, 200, {"ok": True})
        elif method == "POST" and path == "/_fake/reset":
            self.records.clear()
            await _send_json(writer, 200, {"ok": True})
        else:
            await _send_json(writer, 404, {"error": {"message": "not found", "type": "invalid"}})
        return keep_alive

    async def _completion(
        self,
        data: dict[str, Any],
        headers: dict[str, str],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        messages = data.get("messages") or []
        options = parse_directive(messages)
        record = Record(
            id=next(self._ids),
            tag=options.get("tag"),
            stream=bool(data.get("stream")),
            model=str(data.get("model")),
            max_tokens=data.get("max_tokens"),
            messages=messages,
            headers={k: v for k, v in headers.items() if k in _RECORDED_HEADERS},
        )
        record.stream_options = data.get("stream_options")
        self.records.append(record)
        if options.get("refuse") == "stream_options" and "stream_options" in data:
            refusal: dict[str, Any] = {
                "error": {
                    "message": "Unrecognized request argument supplied: stream_options",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            }
            status = int(options.get("refuse_status", "400"))
            if status == 422:
                extra = {"type": "extra_forbidden", "msg": "Extra inputs are not permitted"}
                refusal = {"detail": [{**extra, "loc": ["body", "stream_options"]}]}
            await _send_json(writer, status, refusal)
            record.outcome, record.ended = "error", time.monotonic()
            return True
        if "headers_delay" in options:
            await asyncio.sleep(float(options["headers_delay"]))
        if "status" in options:
            status = int(options["status"])
            extra = {"Retry-After": options["retry_after"]} if "retry_after" in options else {}
            await _send_json(
                writer,
                status,
                {"error": {"message": f"injected status {status}", "type": "fake", "code": None}},
                extra,
            )
            record.outcome, record.ended = "error", time.monotonic()
            return True

        nth = self._count(f"tag:{options.get('tag')}")
        if "faulty" in options and options["faulty"] != str(nth):
            for fault in ("drop_after", "garbage_after", "error_after", "hang_after"):
                options.pop(fault, None)
        asked = data.get("n", 1)
        record.n = asked if isinstance(asked, int) and not isinstance(asked, bool) else 1
        record.seed = data.get("seed")
        try:
            seed = data.get("seed")
            if options.get("n") == "honour" and record.n > 1:
                record.choices = record.n
                base = seed if isinstance(seed, int) else 0
                each = [self._pieces(options, messages, base + i) for i in range(record.n)]
                indexed = _interleave(each, options.get("interleave"))
            else:
                indexed = [(0, piece) for piece in self._pieces(options, messages, seed)]
            pieces = [piece for _, piece in indexed]
            # The choices are written at once, as a server batches them: each at the rate of one.
            delay = float(options.get("delay", self.delay)) / record.choices
        except ValueError as error:  # a directive's typo: say so rather than drop the line
            await _send_json(
                writer, 400, {"error": {"message": f"fake: {error}", "type": "fake", "code": None}}
            )
            record.outcome, record.ended = "error", time.monotonic()
            return True
        if not record.stream:
            await asyncio.sleep(delay * len(pieces))
            await _send_json(writer, 200, _completion_body(record, "".join(pieces)))
            record.outcome, record.ended = "completed", time.monotonic()
            return True

        try:
            writer.write(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"transfer-encoding: chunked\r\ncache-control: no-cache\r\n\r\n"
            )
            await writer.drain()
            return await self._stream(record, options, indexed, delay, reader, writer)
        except ConnectionError:
            # The client reset the connection: it closed its socket with some of what we sent
            # still unread (the kernel then answers with RST, not FIN), so the reader never
            # sees an end of file and the next write or drain fails. It left all the same.
            if record.outcome in ("open", "hung"):
                record.outcome = "client_closed"
            raise
        finally:
            if record.ended is None:
                record.ended = time.monotonic()

    def _count(self, key: str) -> int:
        nth = self._nth.get(key, 0)
        self._nth[key] = nth + 1
        return nth

    def _pieces(self, options: dict[str, str], messages: list[Any], seed: Any = None) -> list[str]:
        if "reply" in options:
            variants = self.variants.get(options["reply"])
            if variants:
                pieces = variants[self._count(f"reply:{options['reply']}") % len(variants)]
            else:
                pieces = self.replies.get(options["reply"], [])
            if "split" in options:
                pieces = split_text("".join(pieces), options["split"])
            return pieces
        prompt = json.dumps(messages, ensure_ascii=False)
        lang = options.get("lang") or ("ko" if "Korean" in prompt or "한국어" in prompt else "en")
        chunks = options.get("chunks", str(self.chunks))
        text = TEXTS.get(lang, TEXTS["en"])
        if isinstance(seed, int) and not isinstance(seed, bool):
            text = reorder(text, seed)
        return pieces_for(
            text,
            options.get("split", self.split),
            None if chunks == "all" else int(chunks),
        )

    async def _stream(
        self,
        record: Record,
        options: dict[str, str],
        indexed: list[tuple[int, str]],
        delay: float,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        async def client_left(within: float) -> bool:
            """Wait up to `within` seconds; True as soon as the client has hung up. (The
            reader sees the end of the connection without anything being read from it, or,
            when the client reset it, the error that ended it.)"""
            end = time.monotonic() + within
            while not reader.at_eof() and reader.exception() is None:
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return False
                await asyncio.sleep(min(remaining, 0.01))
            return True

        def chunk(payload: str) -> None:
            data = payload.encode()
            writer.write(b"%x\r\n%s\r\n" % (len(data), data))

        def event(body: dict[str, Any]) -> None:
            chunk(f"data: {json.dumps(body, ensure_ascii=False)}\n\n")

        for choice in range(record.choices):
            event(_chunk_body(record, {"role": "assistant", "content": ""}, index=choice))
        for index, (choice, piece) in enumerate(indexed):
            faults = {
                name
                for name in ("drop_after", "garbage_after", "error_after", "hang_after")
                if options.get(name) == str(index)
            }
            if "drop_after" in faults:
                record.outcome = "dropped"
                return False
            if "garbage_after" in faults:
                chunk("data: {this is not json\n\n")
            if "error_after" in faults:
                event({"error": {"message": "injected failure", "type": "server_error"}})
                await writer.drain()
                record.outcome = "error"
                return False
            if "hang_after" in faults:
                await writer.drain()
                record.outcome = "hung"
                while not await client_left(3600):
                    pass
                record.outcome = "client_closed"
                return False
            if await client_left(delay):
                record.outcome = "client_closed"
                return False
            event(_chunk_body(record, {"content": piece}, index=choice))
            record.sent += 1
            await writer.drain()
        for choice in range(record.choices):
            event(_chunk_body(record, {}, finish_reason="stop", index=choice))
        asked = record.stream_options
        if "no_usage" not in options and isinstance(asked, dict) and asked.get("include_usage"):
            prompt_tokens = sum(
                len(str(m.get("content", "")).split())
                for m in record.messages
                if isinstance(m, dict)
            )
            event(
                {
                    "id": f"chatcmpl-{record.id}",
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": record.model,
                    "choices": [],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": len(indexed),
                        "total_tokens": prompt_tokens + len(indexed),
                    },
                }
            )
        chunk("data: [DONE]\n\n")
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        record.outcome = "completed"
        return True


def _interleave(each: list[list[str]], seed: str | None) -> list[tuple[int, str]]:
    """The choices' pieces as one series: in turn, or in an order drawn from `seed`; each
    choice's own pieces stay in their order."""
    queues = [deque(pieces) for pieces in each]
    draw = random.Random(seed) if seed is not None else None
    out: list[tuple[int, str]] = []
    turn = 0
    while any(queues):
        ready = [i for i, q in enumerate(queues) if q]
        if draw is not None:
            index = draw.choice(ready)
        else:
            index = ready[turn % len(ready)]
            turn += 1
        out.append((index, queues[index].popleft()))
    return out


def _chunk_body(
    record: Record, delta: dict[str, Any], finish_reason: str | None = None, index: int = 0
) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{record.id}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": record.model,
        "choices": [{"index": index, "delta": delta, "finish_reason": finish_reason}],
    }


def _completion_body(record: Record, text: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{record.id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": record.model,
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


async def _send_json(
    writer: asyncio.StreamWriter, status: int, body: Any, headers: dict[str, str] | None = None
) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    writer.write(
        f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
        f"content-length: {len(data)}\r\n{extra}\r\n".encode()
        + data
    )
    await writer.drain()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--chunks", type=int, default=12, help="pieces per reply")
    parser.add_argument("--delay", type=float, default=0.05, help="seconds before each piece")
    parser.add_argument(
        "--split", choices=SPLITS, default="word", help="how replies are cut into pieces"
    )
    args = parser.parse_args(argv)

    async def serve() -> None:
        fake = FakeUpstream(chunks=args.chunks, delay=args.delay, split=args.split)
        await fake.start(args.host, args.port)
        print(f"fake upstream on http://{args.host}:{fake.port}/v1", flush=True)
        await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


if __name__ == "__main__":
    main()
