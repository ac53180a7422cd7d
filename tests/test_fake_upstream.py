"""The fake upstream streams the ways real upstreams do: per word, per token, per character,
and with a delay, one piece per read. The API tests rely on these modes, so they are checked
here on the fake itself, over a raw socket."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import re
import socket
import struct

import httpx
import pytest

from messagebot.fake_upstream import SPLITS, TEXTS, FakeUpstream, pieces_for, split_text

from .helpers import fake_log, wait_until

SAMPLES = [
    *TEXTS.values(),
    "",
    " ",
    "  Hi there ",
    'Sure! Here\'s a message:\n\n  "Happy 60th birthday, Mom!" 🎉👨‍👩‍👧\nLove,\n[Your Name]  ',
    "Sending you this message, Dad, to say thank you for everything.",
    "엄마, 이 메시지로 마음을 전해요: 늘 고마워요… 사랑해요 ❤️\n\n— 민지",
    "Tabs\tand\r\nCRLF, and…ellipses...and 1,000,000 (numbers)!",
]


@pytest.mark.parametrize("split", SPLITS)
def test_every_split_joins_back_into_the_text(split: str) -> None:
    rng = random.Random(14)
    alphabet = "ab 가나,.!?:;\"'()\n…🎉\u200d\t-"
    generated = ["".join(rng.choices(alphabet, k=rng.randint(0, 40))) for _ in range(300)]
    for text in SAMPLES + generated:
        pieces = split_text(text, split)
        assert "".join(pieces) == text
        assert all(pieces), pieces


def test_word_pieces_are_words_with_their_spaces() -> None:
    assert split_text("Happy birthday! Wishing you", "word") == [
        "Happy ",
        "birthday! ",
        "Wishing ",
        "you",
    ]
    assert split_text("  Hi there ", "word") == ["  ", "Hi ", "there "]


def test_token_pieces_look_like_a_tokenizers() -> None:
    text = 'Happy birthday, Minji! Tonight\'s plan: cake (chocolate) and "our" song.\n\nLove,\nJun'
    assert split_text(text, "token") == [
        "Happy",
        " birth",
        "day",
        ",",
        " Minji",
        "!",
        " Tonight",
        "'s",
        " plan",
        ":",
        " cake",
        " (",
        "choco",
        "late",
        ")",
        " and",
        ' "',
        "our",
        '"',
        " song",
        ".",
        "\n",
        "\n",
        "Love",
        ",",
        "\n",
        "Jun",
    ]
    # Korean in short pieces, each led by its space as a tokenizer's are.
    assert split_text("생일 축하해!", "token") == ["생일", " 축하", "해", "!"]


@pytest.mark.parametrize("split", SPLITS)
@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_every_punctuation_mark_is_a_piece_of_its_own(split: str, lang: str) -> None:
    pieces = split_text(TEXTS[lang], split)
    if split == "word":
        return  # words keep theirs ("birthday! ")
    for piece in pieces:
        marks = re.sub(r"[\w\s]", "", piece)
        assert len(marks) <= 1, piece
        if marks and not re.fullmatch(r"'(?:s|t|re|ve|m|ll|d)", piece):  # "Tonight", "'s"
            assert piece.strip() == marks, piece


def test_the_default_texts_carry_the_punctuation_real_messages_have() -> None:
    for text in TEXTS.values():
        for mark in (",", ":", "(", ")", '"', ".", "!"):
            assert mark in text, mark
    # The words that older tests and the page's check start with.
    assert TEXTS["en"].startswith("Happy birthday! Wishing you a day full of joy, laughter")
    assert TEXTS["ko"].startswith("생일 축하해!")


def test_chunks_count_pieces_in_every_split() -> None:
    for split in SPLITS:
        assert len(pieces_for(TEXTS["en"], split, 12)) == 12
        assert len(pieces_for(TEXTS["en"], split, 500)) == 500  # cycling through the text
        assert "".join(pieces_for(TEXTS["en"], split)) == TEXTS["en"]  # chunks=all
    assert pieces_for(TEXTS["en"], "word", 4) == ["Happy ", "birthday! ", "Wishing ", "you "]


def test_an_unknown_split_is_refused() -> None:
    with pytest.raises(ValueError, match="split must be one of word, token, char"):
        split_text("x", "bytes")
    with pytest.raises(ValueError):
        FakeUpstream(split="bytes")


async def raw_stream(
    fake: FakeUpstream, directive: str
) -> tuple[list[tuple[float, bytes]], list[str]]:
    """POST to the fake over a bare socket: every read as it came, and the content pieces."""
    body = json.dumps(
        {
            "model": "m",
            "stream": True,
            "messages": [{"role": "user", "content": f"birthday [[fake {directive}]]"}],
        }
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", fake.port)
    writer.write(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    await writer.drain()
    loop = asyncio.get_running_loop()
    reads: list[tuple[float, bytes]] = []
    while data := await asyncio.wait_for(reader.read(65536), 10):
        reads.append((loop.time(), data))
    writer.close()
    raw = b"".join(data for _, data in reads).decode()
    contents = [
        json.loads(line[6:])["choices"][0]["delta"].get("content")
        for line in raw.split("\n")
        if line.startswith("data: {") and '"choices": [{' in line
    ]
    return reads, [c for c in contents if c]


@pytest.mark.parametrize("split", SPLITS)
async def test_the_stream_sends_the_pieces_the_split_makes(fake: FakeUpstream, split: str) -> None:
    _, pieces = await raw_stream(fake, f"split={split} chunks=all lang=ko")
    assert pieces == split_text(TEXTS["ko"], split)


async def test_with_a_delay_each_piece_is_a_read_of_its_own(fake: FakeUpstream) -> None:
    reads, pieces = await raw_stream(fake, "split=token chunks=5 delay=0.15")
    assert pieces == ["Happy", " birth", "day", "!", " Wishing"]
    # The piece's bytes come in one read, and no other piece's with them.
    holding = [
        [piece for piece in pieces if f'"content": {json.dumps(piece)}'.encode() in data]
        for _, data in reads
    ]
    with_pieces = [found for found in holding if found]
    assert len(with_pieces) == 5, [data for _, data in reads]
    assert all(len(found) == 1 for found in with_pieces), with_pieces


async def test_registered_replies_are_sent_as_registered_unless_split(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    await client.post(
        fake.base_url.removesuffix("/v1") + "/_fake/replies",
        json={"key": "as-registered", "chunks": ["Thank you, ", "Dad", "!"]},
    )
    _, pieces = await raw_stream(fake, "reply=as-registered")
    assert pieces == ["Thank you, ", "Dad", "!"]
    _, pieces = await raw_stream(fake, "reply=as-registered split=token")
    assert pieces == ["Thank", " you", ",", " Dad", "!"]
    _, pieces = await raw_stream(fake, "reply=as-registered split=char")
    assert "".join(pieces) == "Thank you, Dad!" and len(pieces) == 15


async def test_a_bad_directive_is_a_clear_refusal(fake: FakeUpstream) -> None:
    reads, _ = await raw_stream(fake, "split=bytes")
    answer = b"".join(data for _, data in reads)
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"split must be one of word, token, char" in answer


_tags = itertools.count()


def chat_request(directive: str) -> bytes:
    body = json.dumps(
        {
            "model": "m",
            "stream": True,
            "messages": [{"role": "user", "content": f"birthday [[fake {directive}]]"}],
        }
    ).encode()
    return (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )


@pytest.mark.parametrize(
    ("directive", "read_first"),
    [
        ("headers_delay=0.3 chunks=300 delay=0.05", False),  # before its headers
        ("chunks=300 delay=0.05", True),  # mid-stream
        ("chunks=300 delay=0.05 hang_after=1", True),  # while it hangs
    ],
)
async def test_a_client_that_resets_the_connection_is_recorded_as_closed(
    fake: FakeUpstream, client: httpx.AsyncClient, directive: str, read_first: bool
) -> None:
    """A client that closes its socket with bytes of ours unread resets the connection (RST,
    not FIN), as the service does when its client leaves in the moment the upstream's answer
    arrives: the fake sees no end of file, only a failed write, and still records that the
    client went away, not a request left `open`."""
    tag = f"reset-{next(_tags)}"
    reader, writer = await asyncio.open_connection("127.0.0.1", fake.port)
    writer.write(chat_request(f"{directive} tag={tag}"))
    await writer.drain()
    await wait_until(
        lambda: fake_log(client, fake.base_url, tag), within=5, what="the request at the fake"
    )
    if read_first:
        assert (await asyncio.wait_for(reader.readuntil(b'"content": "'), 5)).startswith(
            b"HTTP/1.1 200"
        )
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
    writer.close()

    seen: list[str] = []

    async def closed() -> bool:
        seen[:] = [r["outcome"] for r in await fake_log(client, fake.base_url, tag)]
        return seen == ["client_closed"]

    try:
        await wait_until(closed, within=5, what="the reset recorded as client_closed")
    except AssertionError as failure:
        raise AssertionError(f"{failure}; the fake saw {seen}") from None


async def test_the_log_gives_one_tags_records_when_asked(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    tags = [f"log-{next(_tags)}" for _ in range(2)]
    for tag in [*tags, tags[0]]:
        await raw_stream(fake, f"chunks=1 tag={tag}")
    url = fake.base_url.removesuffix("/v1") + "/_fake/log"
    first = (await client.get(url, params={"tag": tags[0]})).json()
    assert [r["tag"] for r in first] == [tags[0], tags[0]]
    everything = (await client.get(url)).json()
    assert [r["tag"] for r in everything if r["tag"] in tags] == [*tags, tags[0]]


async def test_the_openai_sdk_reads_the_fake_as_the_real_api() -> None:
    """The fake speaks the API as the openai SDK understands it: its stream parses into the
    SDK's chunk objects, and its error answers become the SDK's own exceptions, Retry-After
    included. (The service itself reads the stream and maps the statuses on its own.)"""
    import openai

    fake = FakeUpstream(chunks=6, delay=0.0)
    await fake.start()
    client = openai.AsyncOpenAI(
        api_key="sk-test",
        base_url=fake.base_url,
        max_retries=0,
        http_client=openai.DefaultAsyncHttpxClient(trust_env=False),
    )

    async def ask(directive: str = "") -> str:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": f"A birthday message in English {directive}"}],
            stream=True,
        )
        # The last chunk may carry only the usage, with no choice (as OpenAI's does).
        pieces = [chunk.choices[0].delta.content async for chunk in stream if chunk.choices]
        return "".join(piece or "" for piece in pieces)

    try:
        text = await ask("[[fake split=token lang=en]]")
        assert text == "".join(pieces_for(TEXTS["en"], "token", 6))
        with pytest.raises(openai.RateLimitError) as busy:
            await ask("[[fake status=429 retry_after=7]]")
        assert busy.value.response.headers["retry-after"] == "7"
        with pytest.raises(openai.BadRequestError):
            await ask("[[fake status=400]]")
        with pytest.raises(openai.AuthenticationError):
            await ask("[[fake status=401]]")
        with pytest.raises(openai.InternalServerError):
            await ask("[[fake status=500]]")
    finally:
        await client.close()
        await fake.stop()
