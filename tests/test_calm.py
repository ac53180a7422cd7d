"""Issue 25's hard occasions: loss, illness and apologies get a calm message. The rule is in
every prompt and in the checks the embedded model's candidates are chosen by; the text the
model wrote is never edited for it."""

from __future__ import annotations

import httpx
import pytest

from messagebot.request import validate_fields
from messagebot.text import occasions, quality
from messagebot.text.prompts import build_prompt

from .helpers import Server

CALM_REASONS = [
    ("condolences", "condolences"),
    ("my neighbour's husband passed away", "condolences"),
    ("sorry for your loss", "condolences"),
    ("아버님 부고 위로", "condolences"),
    ("조의", "condolences"),
    ("할머니께서 돌아가셨대", "condolences"),
    ("sorry I missed your birthday party", "apology"),
    ("생일 파티 못 가서 미안", "apology"),
    ("사과", "apology"),
    ("병문안", "get_well"),
    ("get well soon", "get_well"),
    ("she is in hospital", "get_well"),
]


@pytest.mark.parametrize(("reason", "occasion"), CALM_REASONS)
def test_hard_occasions_are_told_from_the_reason(reason: str, occasion: str) -> None:
    assert occasions.classify(reason) == occasion
    assert occasions.is_calm(reason)


@pytest.mark.parametrize("reason", ["birthday", "passed the exam", "생일", "승진 축하", None])
def test_other_occasions_are_not_calm(reason: str | None) -> None:
    assert not occasions.is_calm(reason)


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize(("reason", "occasion"), CALM_REASONS)
def test_the_chat_prompt_carries_the_calm_rule(language: str, reason: str, occasion: str) -> None:
    request = validate_fields({"relation": "friend", "reason": reason})
    system = build_prompt(request, language).messages[0]["content"]
    rule = "No exclamation marks, no emoji" if language == "en" else "느낌표와 이모지는 쓰지 말고"
    sorry = "say plainly that the sender is sorry" if language == "en" else "분명히 하세요"
    assert rule in system
    assert (sorry in system) == (occasion == "apology")
    # The rule is our words, the same for every reason of the kind; the reason stays in the
    # data block.
    same_kind = {"condolences": "condolences", "apology": "apology", "get_well": "get well"}
    other = validate_fields({"relation": "friend", "reason": same_kind[occasion]})
    assert system == build_prompt(other, language).messages[0]["content"]
    # Without a manner of their own, the tone is calm, not the cheerful default.
    assert ("calm, gentle" in system or "차분하고 진심" in system) and "warm" not in system


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_birthday_gets_no_calm_rule(language: str) -> None:
    system = build_prompt(validate_fields({"relation": "wife", "reason": "birthday"}), language)
    assert "exclamation" not in system.messages[0]["content"]
    assert "느낌표" not in system.messages[0]["content"]


@pytest.mark.parametrize(
    ("reason", "language"),
    [
        ("my neighbour's husband passed away", "en"),
        ("sorry I missed your birthday party", "en"),
        ("get well soon", "en"),
        ("아버님 부고 위로", "ko"),
        ("병문안", "ko"),
        ("사과", "ko"),
    ],
)
def test_the_completion_prompt_shows_only_calm_examples(reason: str, language: str) -> None:
    relation = "neighbour" if language == "en" else "동료"
    request = validate_fields({"name": "Lee", "relation": relation, "reason": reason})
    prompt = build_prompt(request, language, "completion")
    examples = [line for line in prompt.text.splitlines() if line.startswith("Message: ")]
    assert len(examples) == 5
    for line in examples:
        assert not occasions.LOUD.search(line), line  # what a base model copies
    tone = "Tone: calm, gentle and sincere" if language == "en" else "Tone: 차분하고 진심 어리게"
    assert prompt.text.splitlines()[-3] == tone


def test_the_candidates_are_chosen_calm() -> None:
    loss = validate_fields({"name": "Mrs. Lee", "relation": "neighbour", "reason": "condolences"})
    check = quality.score(loss, "en")
    good = "Mrs. Lee, I am so sorry for your loss. My condolences to you and your family."
    assert check(good) == 1.0
    for loud in (
        good.replace("family.", "family!"),
        good + " 🙏",
        good + " Happy memories will stay.",
        good + " Congratulations on a life well lived.",
    ):
        assert not quality.calm(loss, loud), loud
        assert check(loud) < 1.0
    apology = validate_fields({"name": "준호", "relation": "친구", "reason": "사과"})
    assert quality.calm(apology, "준호야, 어제는 정말 미안해.")
    assert not quality.calm(apology, "준호야, 어제 일은 잊고 잘 지내자.")  # no apology in it
    assert not quality.calm(apology, "준호야, 미안해 ㅎㅎ")
    assert not quality.calm(apology, "준호야, 삼가 고인의 명복을 빕니다. 미안해.")
    party = validate_fields({"name": "Jordan", "relation": "friend", "reason": "sorry I missed it"})
    assert not quality.calm(party, "Jordan, I'm so sorry for your loss. I'm here for you.")
    assert quality.calm(party, "Jordan, I'm so sorry I missed your party.")
    get_well = validate_fields({"relation": "친구", "reason": "병문안"})
    assert not quality.calm(get_well, "얼른 나아! 축하할 일이 생기길.")
    birthday = validate_fields({"relation": "wife", "reason": "birthday"})
    assert quality.calm(birthday, "Happy birthday! 🎂")  # not a hard occasion


async def test_the_models_text_is_not_edited_for_the_rule(
    server: Server, client: httpx.AsyncClient
) -> None:
    """The rule is in the prompt and the choice: what the model wrote is what the client gets,
    its exclamation marks included (the fake's reply is a cheerful birthday message)."""
    response = await client.post(
        f"{server.url}/v1/messages",
        json={"relation": "neighbour", "reason": "condolences [[fake chunks=all]]"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["message"].startswith("Happy birthday! Wishing you")


def test_a_korean_condolence_is_glossed_with_its_usual_phrase() -> None:
    request = validate_fields(
        {"name": "김민수", "relation": "회사 동료", "reason": "아버님 부고 위로"}
    )
    text = build_prompt(request, "ko", "completion").text
    assert "Occasion: 아버님 부고 위로 (삼가 고인의 명복을 빕니다)" in text.splitlines()
