"""What an upstream's text may hold that a client must never get: UTF-16 surrogates (a pair
split across two chunks, or a lone half), control characters; and a reply with no message in
it. Over real sockets, from a raw upstream that writes the bytes we choose (issue 24)."""

from __future__ import annotations

import itertools
import json
import re
import struct
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from messagebot.text.pipeline import MessageText
from messagebot.text.sanitise import Sanitise, sanitise

from .helpers import Server, running, stream
from .raw_upstream import SSE_HEAD, RawUpstream, event, raw_upstream, sse_reply

BODY = {"relation": "wife", "reason": "birthday", "max_length": 1000}
PATHS = ("sse", "text", "legacy", "json")


@pytest.fixture(scope="module")
async def upstream() -> AsyncIterator[RawUpstream]:
    async with raw_upstream() as raw:
        yield raw


@pytest.fixture(scope="module")
async def served(upstream: RawUpstream) -> AsyncIterator[Server]:
    async with running(upstream.env()) as server:
        yield server


_keys = itertools.count()


def register(upstream: RawUpstream, reply: list[bytes]) -> dict[str, object]:
    """A request body that gets `reply` from the raw upstream."""
    key = f"k{next(_keys)}"
    upstream.replies[key] = reply
    return {**BODY, "reason": f"birthday [[raw {key}]]"}


async def message_via(
    client: httpx.AsyncClient, server: Server, body: dict[str, object], path: str
) -> str:
    """The message as a client of `path` gets it (SSE: checked to add up to `done`)."""
    if path == "json":
        response = await client.post(f"{server.url}/v1/messages", json=body)
        assert response.status_code == 200, response.text
        return str(response.json()["message"])
    if path == "sse":
        result = await stream(client, f"{server.url}/v1/messages/stream", body)
        assert result.sequence[0] == "start" and result.sequence[-1] == "done", result.events
        assert result.named("done")[0].data["message"] == result.text
        return result.text
    url = f"{server.url}/streaming/" if path == "legacy" else f"{server.url}/v1/messages/stream"
    headers = {"Accept": "text/plain"} if path == "text" else {}
    response = await client.post(url, json=body, headers=headers)
    assert response.status_code == 200
    return response.content.decode("utf-8")  # strict: a broken body fails here


def utf16_units(text: str) -> str:
    """`text` as a JavaScript string holds it: a character beyond the BMP as its two
    surrogate halves, each a code point of its own."""
    raw = text.encode("utf-16-le")
    return "".join(chr(unit) for unit in struct.unpack(f"<{len(raw) // 2}H", raw))


# ---------------------------------------------------------------------------------------------
# Surrogates.


@pytest.mark.parametrize("path", PATHS)
async def test_a_surrogate_pair_split_across_chunks_is_joined(
    upstream: RawUpstream, served: Server, client: httpx.AsyncClient, path: str
) -> None:
    body = register(upstream, sse_reply(["Happy birthday, Minji \ud83c", "\udf82 Love you!"]))
    assert await message_via(client, served, body, path) == "Happy birthday, Minji 🎂 Love you!"


@pytest.mark.parametrize("path", PATHS)
async def test_a_lone_surrogate_becomes_the_replacement_character(
    upstream: RawUpstream, served: Server, client: httpx.AsyncClient, path: str
) -> None:
    body = register(upstream, sse_reply(["Happy \ud83c birthday", " \udf82Minji\ud83c"]))
    expected = "Happy \ufffd birthday \ufffdMinji\ufffd"
    assert await message_via(client, served, body, path) == expected


async def test_surrogates_count_as_the_success_they_are(
    upstream: RawUpstream, served: Server, client: httpx.AsyncClient
) -> None:
    before = (await client.get(f"{served.url}/v1/stats")).json()
    body = register(upstream, sse_reply(["Happy birthday \ud83c", "\udf82!"]))
    response = await client.post(f"{served.url}/v1/messages", json=body)
    assert response.status_code == 200, response.text
    after = (await client.get(f"{served.url}/v1/stats")).json()
    assert after["messages_generated"] == before["messages_generated"] + 1


_WORDS = ["Happy ", "birthday", ", ", "Minji", "! ", "🎂", "🎉", "👨‍👩‍👧", "𝄞", "생일", "\n"]
_EMOJI_TEXT = st.lists(
    st.sampled_from(_WORDS),
    min_size=1,
    max_size=20,
).map("".join)


@st.composite
def cut(draw: st.DrawFn, text: str) -> list[str]:
    points = sorted(set(draw(st.lists(st.integers(1, max(1, len(text) - 1)), max_size=12))))
    return [text[a:b] for a, b in itertools.pairwise([0, *points, len(text)]) if a < b]


def through(pieces: list[str]) -> str:
    text = MessageText(1000)
    return "".join(text.feed(piece) for piece in pieces) + text.finish()


@given(st.data())
def test_emoji_cut_anywhere_in_utf16_give_the_whole_text(data: st.DataObject) -> None:
    # An upstream that slices UTF-16 strings, escaping each slice as strict JSON does.
    text = data.draw(_EMOJI_TEXT, "text")
    slices = data.draw(cut(utf16_units(text)), "slices")
    pieces = [json.loads(json.dumps(piece, ensure_ascii=True)) for piece in slices]
    assert through(pieces) == through([text])


@given(st.text(st.characters(codec=None, exclude_categories=["Cn"]), max_size=30), st.data())
def test_sanitise_is_the_same_however_cut(text: str, data: st.DataObject) -> None:
    pieces = data.draw(cut(text), "pieces")
    stage = Sanitise()
    out = "".join(stage.feed(piece) for piece in pieces) + stage.finish()
    assert out == sanitise(text)
    out.encode("utf-8")  # always encodable
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", out)


@settings(max_examples=15)
@given(text=_EMOJI_TEXT, data=st.data())
async def test_emoji_cut_anywhere_on_the_wire(
    upstream: RawUpstream, served: Server, text: str, data: st.DataObject
) -> None:
    slices = data.draw(cut(utf16_units(text)), "slices")
    body = register(upstream, sse_reply(slices))
    async with httpx.AsyncClient(timeout=30) as client:
        result = await stream(client, f"{served.url}/v1/messages/stream", body)
    expected = through([text])
    if not expected:  # only white space: no message (below)
        assert result.sequence[-1] == "error", result.events
        return
    assert result.sequence[-1] == "done", result.events
    assert result.text == result.named("done")[0].data["message"] == expected


# ---------------------------------------------------------------------------------------------
# Control characters.

CONTROLLED = ["Happy\x00 birthday,\x1b[31m Minji\x07!", "\r\n\tLove\x7f you\x85.\x1b"]
EXPECTED = "Happy birthday,[31m Minji!\n\tLove you."


@pytest.mark.parametrize("path", PATHS)
async def test_control_characters_never_reach_a_client(
    upstream: RawUpstream, served: Server, client: httpx.AsyncClient, path: str
) -> None:
    body = register(upstream, sse_reply(CONTROLLED))
    assert await message_via(client, served, body, path) == EXPECTED


async def test_control_characters_never_reach_the_terminal(upstream: RawUpstream) -> None:
    from .test_cli import run_cli

    body = register(upstream, sse_reply(CONTROLLED))
    out, _ = await run_cli(
        "write", "--relation", "wife", "--reason", str(body["reason"]), env=upstream.env(), expect=0
    )
    assert out == EXPECTED + "\n"


_CONTROL_TEXT = st.lists(
    st.sampled_from(["Happy ", "birthday", "! ", "\x00", "\x1b[0m", "\x07", "\r\n", "\t", "\x9b"]),
    max_size=20,
).map("".join)


@given(st.data())
def test_control_characters_go_however_the_reply_is_cut(data: st.DataObject) -> None:
    text = data.draw(_CONTROL_TEXT, "text")
    pieces = data.draw(cut(text), "pieces")
    message = MessageText(1000)
    deltas = [message.feed(piece) for piece in pieces] + [message.finish()]
    assert "".join(deltas) == through([text])
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "".join(deltas))


# ---------------------------------------------------------------------------------------------
# A reply with no message in it.

EMPTY_REPLIES = {
    "done first": [SSE_HEAD, b"data: [DONE]\n\n" + event("Happy birthday!")],
    "only done": [SSE_HEAD, b"data: [DONE]\n\n"],
    "finish, no text": [SSE_HEAD, event(""), event(finish_reason="stop"), b"data: [DONE]\n\n"],
    "all wrapping": sse_reply(["Sure! Here's a message for your wife:", "\n\n", "**Best,**"]),
}


def outcome_count(metrics: str, outcome: str) -> float:
    pattern = rf'messagebot_generations_total\{{outcome="{outcome}",provider="openai"\}} (\S+)'
    match = re.search(pattern, metrics)
    return float(match.group(1)) if match else 0.0


@pytest.mark.parametrize("name", EMPTY_REPLIES)
async def test_a_reply_with_no_message_is_an_upstream_error(
    upstream: RawUpstream, served: Server, client: httpx.AsyncClient, name: str
) -> None:
    stats = (await client.get(f"{served.url}/v1/stats")).json()
    metrics = (await client.get(f"{served.url}/metrics")).text

    result = await stream(
        client, f"{served.url}/v1/messages/stream", register(upstream, EMPTY_REPLIES[name])
    )
    assert result.sequence == ["start", "error"], result.events
    assert result.named("error")[0].data == {
        "index": 0,
        "code": "upstream_error",
        "message": "The model's reply had no message in it.",
    }
    response = await client.post(
        f"{served.url}/v1/messages", json=register(upstream, EMPTY_REPLIES[name])
    )
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_error"

    after = (await client.get(f"{served.url}/v1/stats")).json()
    assert after["messages_generated"] == stats["messages_generated"]
    errors = stats["by_outcome"].get("upstream_error", 0)
    assert after["by_outcome"].get("upstream_error", 0) == errors + 2
    now = (await client.get(f"{served.url}/metrics")).text
    assert outcome_count(now, "upstream_error") == outcome_count(metrics, "upstream_error") + 2
    assert outcome_count(now, "stop") == outcome_count(metrics, "stop")
