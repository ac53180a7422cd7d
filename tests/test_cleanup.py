"""Send-ready text: chatty wrapping removed while streaming, real messages kept."""

from __future__ import annotations

import itertools

import httpx
import pytest

from messagebot.cleanup import Cleanup
from messagebot.fake_upstream import FakeUpstream

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


@pytest.mark.parametrize(("reply", "expected"), CASES)
def test_cleanup_whole_reply(reply: str, expected: str) -> None:
    assert clean([reply])[1] == expected


@pytest.mark.parametrize(("reply", "expected"), CASES)
def test_cleanup_is_the_same_however_the_reply_is_split(reply: str, expected: str) -> None:
    # Every split into two pieces, and into pieces of every size from 1 to 7 characters.
    for cut in range(1, len(reply)):
        assert clean([reply[:cut], reply[cut:]])[1] == expected, cut
    for size in range(1, 8):
        pieces = (
            ["".join(p) for p in itertools.batched(reply, size)]
            if hasattr(itertools, "batched")
            else [reply[i : i + size] for i in range(0, len(reply), size)]
        )
        assert clean(pieces)[1] == expected, size


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
    assert done["message"] == result.text == "Minji, happy birthday to you! Minji,"
    assert done["finish_reason"] == "length" and done["length"] == 36
