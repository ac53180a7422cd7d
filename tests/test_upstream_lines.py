"""How an upstream's event stream may be framed: lines ended by CR, LF or CRLF, cut anywhere
by reads; no line without a bound; and a 200 that is not a stream at all (issue 24, items 4
and 6). Over real sockets, from a raw upstream that writes the bytes we choose."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from messagebot.errors import APIError
from messagebot.providers.sse_lines import MAX_LINE, SSELines

from .helpers import Server, running, stream, wait_until
from .raw_upstream import SSE_HEAD, RawUpstream, event, raw_upstream, sse_reply

BODY = {"relation": "wife", "reason": "birthday", "max_length": 1000}
TEXT = ["Happy", " birthday", ", Minji", "! Love", " you."]


@pytest.fixture(scope="module")
async def upstream() -> AsyncIterator[RawUpstream]:
    async with raw_upstream() as raw:
        yield raw


@pytest.fixture(scope="module")
async def served(upstream: RawUpstream) -> AsyncIterator[Server]:
    async with running(upstream.env(MESSAGEBOT_GENERATION_TIMEOUT_S="20")) as server:
        yield server


_keys = itertools.count()


def register(upstream: RawUpstream, reply: list[bytes] | AsyncIterator[bytes]) -> dict[str, object]:
    key = f"l{next(_keys)}"
    upstream.replies[key] = reply
    return {**BODY, "reason": f"birthday [[raw {key}]]"}


def cut_at(body: bytes, points: list[int]) -> list[bytes]:
    ends = [0, *sorted(set(points)), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(ends) if a < b]


def stream_body(line_end: bytes) -> bytes:
    """The body of a well-formed stream, every line ended by `line_end`."""
    return b"".join(sse_reply(TEXT)[1:]).replace(b"\n", line_end)


# ---------------------------------------------------------------------------------------------
# Line ends.


@st.composite
def framed(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    """A body of `data:` lines and comments with CR, LF or CRLF line ends (mixed), and the
    same body cut into reads, often between a CR and its LF."""
    lines = draw(
        st.lists(
            st.one_of(
                st.builds(lambda text: json.dumps({"t": text}).encode(), st.text(max_size=8)),
                st.just(b": ping"),
                st.just(b""),
            ),
            max_size=12,
        )
    )
    ends = draw(st.lists(st.sampled_from([b"\r", b"\n", b"\r\n"]), min_size=len(lines)))
    body = b"".join(line + end for line, end in zip(lines, ends, strict=False))
    crlf = [i + 1 for i in range(len(body)) if body[i : i + 2] == b"\r\n"]
    points = draw(st.lists(st.one_of(st.integers(0, len(body)), st.sampled_from(crlf or [0]))))
    return body, cut_at(body, points)


def read_lines(reads: list[bytes]) -> list[bytes]:
    lines = SSELines()
    return [line for data in reads for line in lines.feed(data)]


@given(framed())
def test_lines_are_the_same_however_the_body_is_read(case: tuple[bytes, list[bytes]]) -> None:
    body, reads = case
    expected = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")[:-1]
    assert read_lines(reads) == read_lines([body]) == expected


@pytest.mark.parametrize("line_end", [b"\r", b"\r\n", b"\n"], ids=["CR", "CRLF", "LF"])
async def test_any_sse_line_end_is_accepted(
    upstream: RawUpstream, served: Server, client: httpx.AsyncClient, line_end: bytes
) -> None:
    body = stream_body(line_end)
    # Cut after every CR too (a read that ends between a CR and its LF).
    reads = cut_at(body, [i + 1 for i in range(len(body)) if body[i : i + 1] == b"\r"])
    result = await stream(
        client, f"{served.url}/v1/messages/stream", register(upstream, [SSE_HEAD, *reads])
    )
    assert result.sequence[-1] == "done", result.events
    assert result.text == result.named("done")[0].data["message"] == "".join(TEXT)


@settings(max_examples=15)
@given(data=st.data())
async def test_crlf_cut_anywhere_on_the_wire(
    upstream: RawUpstream, served: Server, data: st.DataObject
) -> None:
    line_end = data.draw(st.sampled_from([b"\r", b"\r\n"]), "line end")
    body = stream_body(line_end)
    points = data.draw(st.lists(st.integers(1, len(body) - 1), max_size=10), "cuts")
    async with httpx.AsyncClient(timeout=30) as client:
        result = await stream(
            client,
            f"{served.url}/v1/messages/stream",
            register(upstream, [SSE_HEAD, *cut_at(body, points)]),
        )
    assert result.text == result.named("done")[0].data["message"] == "".join(TEXT)


# ---------------------------------------------------------------------------------------------
# A 200 that is not a stream.


def json_reply(body: object) -> list[bytes]:
    data = json.dumps(body).encode()
    return [
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(data)}\r\n\r\n".encode()
        + data
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"error": {"message": "The model\x1b is\n overloaded.", "type": "server_error"}},
            "The language model service answered JSON, not a stream: The model is overloaded.",
        ),
        (
            {"error": "quota exceeded"},
            "The language model service answered JSON, not a stream: quota exceeded",
        ),
        (
            {"choices": [{"message": {"content": "Happy birthday!"}}]},
            "The language model service answered JSON, not a stream.",
        ),
    ],
)
async def test_a_json_answer_to_a_stream_is_said_to_be_one(
    upstream: RawUpstream, served: Server, client: httpx.AsyncClient, body: object, message: str
) -> None:
    for path in ("/v1/messages/stream", "/v1/messages", "/streaming/"):
        response = await client.post(
            f"{served.url}{path}", json=register(upstream, json_reply(body))
        )
        # Before `start`: a plain HTTP error, not a 200 stream that says "unreachable".
        assert response.status_code == 502, (path, response.text)
        assert response.json()["error"] == {"code": "upstream_error", "message": message}


# ---------------------------------------------------------------------------------------------
# Lines without a bound.


def test_a_line_longer_than_the_bound_is_refused_however_read() -> None:
    line = b"data: " + b"x" * MAX_LINE + b"\n"
    for size in (len(line), 65536, 1000):
        lines = SSELines()
        with pytest.raises(APIError, match="longer than 256 KiB"):
            for start in range(0, len(line), size):
                lines.feed(line[start : start + size])
    assert SSELines().feed(b"data: " + b"x" * (MAX_LINE - 6) + b"\n")  # at the bound: fine


def sentence_line(size: int) -> bytes:
    text = ("Hi. " * (size // 4))[:size]
    return b"data: " + json.dumps({"choices": [{"delta": {"content": text}}]}).encode() + b"\n\n"


async def test_a_huge_line_ends_its_message_and_no_one_else_waits(
    upstream: RawUpstream, served: Server, client: httpx.AsyncClient
) -> None:
    """A 1 MiB chunk of short sentences (it held the worker for 36 s): an upstream_error, while
    /healthz and another stream are served."""
    huge = register(upstream, [SSE_HEAD, sentence_line(1024 * 1024), b"data: [DONE]\n\n"])
    other = register(upstream, sse_reply(TEXT))
    results = await asyncio.gather(
        stream(client, f"{served.url}/v1/messages/stream", huge),
        stream(client, f"{served.url}/v1/messages/stream", other),
        client.get(f"{served.url}/healthz"),
    )
    assert results[0].named("error")[0].data == {
        "index": 0,
        "code": "upstream_error",
        "message": "The language model service sent a line longer than 256 KiB.",
    }
    assert results[1].named("done")[0].data["message"] == "".join(TEXT)
    assert results[2].status_code == 200


async def test_a_line_just_under_the_bound_is_a_message(
    upstream: RawUpstream, served: Server, client: httpx.AsyncClient
) -> None:
    body = register(upstream, [SSE_HEAD, sentence_line(MAX_LINE - 1000), b"data: [DONE]\n\n"])
    result = await stream(client, f"{served.url}/v1/messages/stream", body)
    done = result.named("done")[0].data
    assert done["finish_reason"] == "length" and done["message"] == result.text


async def endless_line() -> AsyncIterator[bytes]:
    yield SSE_HEAD + event("Happy birthday!") + b'data: {"choices":[{"delta":{"content":"'
    while True:
        yield b"Hi. " * 4096  # 16 KiB, never a newline
        await asyncio.sleep(0)


async def test_an_endless_line_ends_soon_after_the_bound(
    upstream: RawUpstream, served: Server, client: httpx.AsyncClient
) -> None:
    body = register(upstream, endless_line())
    result = await stream(client, f"{served.url}/v1/messages/stream", body)
    assert result.named("error")[0].data == {
        "index": 0,
        "code": "upstream_error",
        "message": "The language model service sent a line longer than 256 KiB.",
    }
    assert "Happy birthday!".startswith(result.text)
    key = str(body["reason"]).split()[-1].removesuffix("]]")
    record = await wait_until(
        lambda: upstream.records[key].outcome == "client_closed" and upstream.records[key],
        within=10,
        what="the upstream connection closed",
    )
    # What we read is bounded: the line's bound, plus what the sockets' buffers held.
    assert record.written < 32 * 1024 * 1024, record.written


# ---------------------------------------------------------------------------------------------
# The same rules when one reply carries all `n` messages (an upstream that honours `n`).


def choice_event(index: int, content: str | None = None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    chunk = {"choices": [{"index": index, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


async def test_one_reply_of_two_messages_may_end_its_lines_with_cr(
    upstream: RawUpstream, served: Server, client: httpx.AsyncClient
) -> None:
    texts = (["Happy", " birthday, Minji."], ["Many", " happy returns, Minji."])
    body = b"".join(
        [
            *(
                choice_event(i, part)
                for pair in zip(*texts, strict=True)
                for i, part in enumerate(pair)
            ),
            choice_event(0, finish="stop"),
            choice_event(1, finish="stop"),
            b"data: [DONE]\n\n",
        ]
    ).replace(b"\n", b"\r")
    request = {**register(upstream, [SSE_HEAD, body]), "n": 2}
    result = await stream(client, f"{served.url}/v1/messages/stream", request)
    done = {event.data["index"]: event.data["message"] for event in result.named("done")}
    assert done == {0: "Happy birthday, Minji.", 1: "Many happy returns, Minji."}, result.events


async def test_one_reply_of_two_messages_has_its_lines_bounded(
    upstream: RawUpstream, served: Server, client: httpx.AsyncClient
) -> None:
    request = {**register(upstream, [SSE_HEAD, sentence_line(1024 * 1024)]), "n": 2}
    result = await stream(client, f"{served.url}/v1/messages/stream", request)
    errors = sorted(event.data["index"] for event in result.named("error"))
    assert errors == [0, 1], result.events
    assert {event.data["message"] for event in result.named("error")} == {
        "The language model service sent a line longer than 256 KiB."
    }


async def test_an_empty_message_of_two_ends_its_own_index(
    upstream: RawUpstream, served: Server, client: httpx.AsyncClient
) -> None:
    body = b"".join(
        [
            choice_event(0, "Happy birthday, Minji."),
            choice_event(0, finish="stop"),
            choice_event(1, finish="stop"),
            b"data: [DONE]\n\n",
        ]
    )
    request = {**register(upstream, [SSE_HEAD, body]), "n": 2}
    result = await stream(client, f"{served.url}/v1/messages/stream", request)
    assert [event.data["index"] for event in result.named("done")] == [0], result.events
    assert [event.data["index"] for event in result.named("error")] == [1], result.events
