"""Send-ready text: chatty wrapping removed while streaming, real messages kept, whatever the
cuts. The hypothesis properties run `HYPOTHESIS_PROFILE` (conftest.py: 2,000 examples each
under CI, 200 otherwise)."""

from __future__ import annotations

import itertools
import re

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from messagebot.fake_upstream import FakeUpstream
from messagebot.text.cleanup import (
    _HEAD_LINE,
    _HEAD_LINES,
    _PLACEHOLDER_MAX,
    _QUOTE_WINDOW,
    _TAIL_MAX,
    Cleanup,
)
from messagebot.text.pipeline import MessageText

from .corpus import CHATTY, PLAIN
from .helpers import Server, stream

CASES = [
    # (model reply, what the user should get)
    (
        'Sure! Here\'s a message for your wife:\n\n"Happy birthday, Minji! I love you."\n\n'
        "Best wishes,\n[Your Name]",
        "Happy birthday, Minji! I love you.",
    ),
    (
        "Certainly! Here is a birthday message for Minji: Happy birthday, Minji!",
        "Happy birthday, Minji!",
    ),
    (
        "Of course!\n\nHappy Chuseok, Mr. Park! Wishing you a restful holiday.",
        "Happy Chuseok, Mr. Park! Wishing you a restful holiday.",
    ),
    (
        "**Happy Birthday, Minji!**\n\nAnother year of you, my favourite person.",
        "Another year of you, my favourite person.",
    ),
    ("# Birthday message\nMinji, happy birthday!", "Minji, happy birthday!"),
    ("“Happy birthday, Minji!”", "Happy birthday, Minji!"),
    ("Minji, happy birthday! Love, [Your Name]", "Minji, happy birthday!"),
    ("Happy birthday, Minji!\n\nWarm regards,\n[Your Name]", "Happy birthday, Minji!"),
    (
        "물론이죠! 다음은 아내에게 보낼 생일 메시지입니다:\n\n민지야, 생일 축하해!",
        "민지야, 생일 축하해!",
    ),
    ("민지야, 생일 축하해! 사랑을 담아, [이름]", "민지야, 생일 축하해!"),
    ("Happy **birthday**, Minji!", "Happy birthday, Minji!"),
    # Real messages that merely look like wrapping are kept as they are.
    (
        "Sure hope your birthday is as amazing as you are, Minji!",
        "Sure hope your birthday is as amazing as you are, Minji!",
    ),
    (
        "Here's to another year of laughs, Minji! Love you.",
        "Here's to another year of laughs, Minji! Love you.",
    ),
    (
        "Certainly the best wife in the world deserves the best birthday, Minji.",
        "Certainly the best wife in the world deserves the best birthday, Minji.",
    ),
    ("Happy birthday!\n\nWith love,\nJun", "Happy birthday!\n\nWith love,\nJun"),
    (
        'As Grandma says, "age is just a number" - happy birthday, Minji!',
        'As Grandma says, "age is just a number" - happy birthday, Minji!',
    ),
    ("Great-aunt Sue, happy 90th birthday!", "Great-aunt Sue, happy 90th birthday!"),
    ("네 생일이야, 민지야! 축하해!", "네 생일이야, 민지야! 축하해!"),
]


def clean(chunks: list[str]) -> tuple[list[str], str]:
    cleanup = Cleanup()
    out = [cleanup.feed(chunk) for chunk in chunks]
    out.append(cleanup.finish())
    return out, "".join(out)


def whole(reply: str) -> str:
    return clean([reply])[1]


@pytest.mark.parametrize(("reply", "expected"), CASES)
def test_cleanup_whole_reply(reply: str, expected: str) -> None:
    assert whole(reply) == expected


@pytest.mark.parametrize(("reply", "expected"), CASES)
def test_cleanup_is_the_same_however_the_reply_is_split(reply: str, expected: str) -> None:
    # Every split into two pieces, and into pieces of every size from 1 to 7 characters.
    for cut in range(1, len(reply)):
        assert clean([reply[:cut], reply[cut:]])[1] == expected, cut
    for size in range(1, 8):
        pieces = [reply[i : i + size] for i in range(0, len(reply), size)]
        assert clean(pieces)[1] == expected, size


# The ways upstreams cut a reply: one token per chunk (every punctuation mark alone, a space
# leading a word), one character per chunk, and reads that merge or split those at random.
_TOKEN = re.compile(r"[^\S\n]?[^\W_]+|\n+|[^\S\n]+|.", re.DOTALL)


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


@st.composite
def cuts(draw: st.DrawFn, text: str) -> list[str]:
    """`text` cut into pieces as some upstream would send it."""
    how = draw(st.sampled_from(["token", "char", "reads", "merged tokens"]))
    if how == "char":
        return list(text)
    if how == "token":
        return tokens(text)
    if how == "merged tokens":
        pieces = tokens(text)
        joins = draw(st.lists(st.booleans(), min_size=len(pieces), max_size=len(pieces)))
        merged: list[str] = []
        for piece, join in zip(pieces, joins, strict=True):
            if join and merged:
                merged[-1] += piece
            else:
                merged.append(piece)
        return merged
    points = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=len(text) // 2 + 1))))
    return [text[a:b] for a, b in itertools.pairwise([0, *points, len(text)]) if a < b]


# Text that is not a corpus message: the fragments wrapping is made of, cut into pieces of
# real messages, punctuation, quotes, brackets, emphasis markers, Hangul and emoji.
_FRAGMENTS = [
    "Sure! Here's a message for you:",
    "Of course!",
    "물론이죠! 다음은 메시지입니다:",
    "Here's a message: ",
    "**Happy Birthday!**",
    "# Title",
    "Subject: hi",
    "[Your Name]",
    "[이름]",
    "(your name)",
    "<Your Name>",
    "[Your",
    "Best wishes,",
    "Love,",
    "Love you, Mom!",
    "With love,\nJun",
    "사랑을 담아,",
    "Mr. Park",
    "message",
    "메시지",
    "**",
    "__",
    '"',
    "“",
    "”",
    "「",
    "」",
    "'",
    "...",
    "…",
    "\n",
    "\n\n",
    "  ",
    ": ",
    ", ",
    "! ",
    ". ",
    "🎂",
    "👨‍👩‍👧",
]
_ALPHABET = st.sampled_from(list("abcXYZ 생일축하해요 .,!?:;()[]<>{}*_\"'“”「」\n-—…~🎉"))
generated_text = st.lists(
    st.one_of(st.sampled_from(_FRAGMENTS), st.text(_ALPHABET, max_size=6)), max_size=40
).map("".join)
any_reply = st.one_of(
    st.sampled_from(PLAIN), st.sampled_from([reply for reply, _ in CHATTY]), generated_text
)


@given(st.data())
def test_every_cut_gives_the_text_of_the_whole_reply(data: st.DataObject) -> None:
    reply = data.draw(any_reply, "reply")
    pieces = data.draw(cuts(reply), "pieces")
    assert clean(pieces)[1] == whole(reply)


@given(st.data())
def test_a_plain_message_comes_out_byte_identical(data: st.DataObject) -> None:
    message = data.draw(st.sampled_from(PLAIN), "message")
    assert clean(data.draw(cuts(message), "pieces"))[1] == message


def test_a_plain_message_is_held_only_within_bounded_windows() -> None:
    for message in PLAIN:
        cleanup = Cleanup()
        sent = 0
        for index, char in enumerate(message, 1):
            sent += len(cleanup.feed(char))
            held = index - sent
            if sent:
                # Past the head: white space, a placeholder's bracket or a possible tail.
                space = len(message[:index]) - len(message[:index].rstrip())
                assert held <= space + _TAIL_MAX + _PLACEHOLDER_MAX, (message, index)
            else:
                assert index <= _HEAD_LINES * (_HEAD_LINE + 1) + _QUOTE_WINDOW, message
        assert sent + len(cleanup.finish()) == len(message)


@pytest.mark.parametrize(("reply", "expected"), CHATTY)
def test_a_chatty_reply_gives_the_message_alone(reply: str, expected: str) -> None:
    assert whole(reply) == expected


@given(st.data())
def test_a_chatty_reply_gives_the_message_alone_however_cut(data: st.DataObject) -> None:
    reply, expected = data.draw(st.sampled_from(CHATTY), "case")
    assert clean(data.draw(cuts(reply), "pieces"))[1] == expected


@given(st.data())
def test_the_cleanup_only_removes(data: st.DataObject) -> None:
    # Whatever the reply, the output is the reply with some parts left out, in order.
    reply = data.draw(any_reply, "reply")
    remaining = iter(reply)
    assert all(char in remaining for char in whole(reply))


def written(pieces: list[str], max_length: int) -> tuple[list[str], bool]:
    text = MessageText(max_length)
    out = []
    for piece in pieces:
        out.append(text.feed(piece))
        if text.cut:
            break
    else:
        out.append(text.finish())
    return out, text.cut


@given(st.data())
def test_the_length_rule_holds_however_the_reply_is_cut(data: st.DataObject) -> None:
    reply = data.draw(any_reply, "reply")
    max_length = data.draw(st.integers(20, 1000), "max_length")
    out, cut = written(data.draw(cuts(reply), "pieces"), max_length)
    message = "".join(out)
    whole_out, whole_cut = written([reply], max_length)
    assert (message, cut) == ("".join(whole_out), whole_cut)
    assert len(message) <= max_length
    cleaned = whole(reply)
    if len(cleaned) <= max_length:
        assert (message, cut) == (cleaned, False)  # a message that fits is never cut
    else:
        assert cut and cleaned.startswith(message)
        assert message == message.strip()


def test_a_message_that_fits_keeps_its_last_word() -> None:
    message = (
        "Darling, these years with you have been the best of my life. Happy anniversary! "
        "Always yours, my love."
    )
    for max_length in range(len(message), len(message) + 40):
        for pieces in (tokens(message), list(message), [message]):
            out, cut = written(pieces, max_length)
            assert ("".join(out), cut) == (message, False)


def test_a_message_that_does_not_fit_is_cut_at_its_last_sentence_end() -> None:
    message = (
        "Darling, these years with you have been the best of my life. Happy anniversary! "
        "Always yours, my love."
    )
    assert written(tokens(message), 100)[1]
    assert "".join(written(tokens(message), 100)[0]) == (
        "Darling, these years with you have been the best of my life. Happy anniversary!"
    )
    assert "".join(written(tokens(message), 61)[0]) == (
        "Darling, these years with you have been the best of my life."
    )
    # No sentence end past half the limit: the last word boundary.
    short = "Darling, these years with you have been the best of my life"
    assert "".join(written([short], 40)[0]) == "Darling, these years with you have been"
    assert "".join(written(["Dear Mr. Park, thank you for everything this year."], 30)[0]) == (
        "Dear Mr. Park, thank you for"
    )


def test_words_go_out_as_they_come_within_half_the_limit() -> None:
    # Each word is whole once the white space after it has come (the cleanup holds that
    # white space back, and tells the length limit that it follows).
    text = MessageText(200)
    pieces = ["Happy ", "birthday, ", "Minji! ", "Wishing ", "you ", "joy."]
    assert [text.feed(piece) for piece in pieces] == [
        "Happy",
        " birthday,",
        " Minji!",
        " Wishing",
        " you",
        "",
    ]
    assert text.finish() == " joy."


def test_plain_messages_stream_without_waiting() -> None:
    out, _ = clean(["Minji,", " happy", " birthday", " to", " you!"])
    # Each piece goes out as it comes (one word of look-ahead at most).
    assert [bool(piece) for piece in out[:5]] == [True, True, True, True, True]


def test_a_possible_preamble_waits_only_for_its_first_line() -> None:
    out, text = clean(["Sure", "! Here's a message:", "\n", "Minji,", " happy birthday!"])
    assert out[:3] == ["", "", ""]
    assert out[3] == "Minji," and text == "Minji, happy birthday!"


async def register(
    client: httpx.AsyncClient, fake: FakeUpstream, key: str, chunks: list[str]
) -> None:
    response = await client.post(
        fake.base_url.removesuffix("/v1") + "/_fake/replies", json={"key": key, "chunks": chunks}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("index", range(len(CASES)))
async def test_cleanup_on_the_wire(
    fake: FakeUpstream, server: Server, client: httpx.AsyncClient, index: int
) -> None:
    reply, expected = CASES[index]
    # Split at awkward places: every 3 characters ("Su" + "re! Her" + "e's…" style).
    chunks = [reply[i : i + 3] for i in range(0, len(reply), 3)]
    await register(client, fake, f"case{index}", chunks)
    result = await stream(
        client,
        f"{server.url}/v1/messages/stream",
        {"relation": "wife", "reason": f"birthday [[fake reply=case{index}]]", "max_length": 1000},
    )
    done = result.named("done")[0].data
    assert done["message"] == result.text == expected
    assert done["length"] == len(expected)


async def test_length_counts_the_cleaned_text(
    fake: FakeUpstream, server: Server, client: httpx.AsyncClient
) -> None:
    reply = "Sure! Here's a message for you:\n\n" + "Minji, happy birthday to you! " * 3
    await register(client, fake, "long", [reply[i : i + 4] for i in range(0, len(reply), 4)])
    result = await stream(
        client,
        f"{server.url}/v1/messages/stream",
        {"relation": "wife", "reason": "birthday [[fake reply=long]]", "max_length": 40},
    )
    done = result.named("done")[0].data
    # Cut at the last sentence end that keeps most of the limit.
    assert done["message"] == result.text == "Minji, happy birthday to you!"
    assert done["finish_reason"] == "length" and done["length"] == 29
