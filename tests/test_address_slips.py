"""A wrong form of address is caught as soon as the sentence that holds it ends (issue 26): the
embedded model streams a message a sentence at a time, so the start of a message is judged by
text/quality.SO_FAR before the rest exists. A hand read of n=3 found "준호아", "승우아", "현우아",
"예나아", "수민야" in messages that had passed every check."""

from __future__ import annotations

import pytest

from messagebot.request import MessageRequest
from messagebot.text import korean, quality
from messagebot.text.examples import bank
from messagebot.text.quality import SO_FAR, Case


def _request(name: str, relation: str, reason: str = "생일") -> MessageRequest:
    return MessageRequest.model_validate(
        {"name": name, "relation": relation, "reason": reason, "language": "ko"}
    )


@pytest.mark.parametrize(
    ("start", "name", "relation", "reason"),
    [
        ("준호아, 졸업 축하해!", "준호", "동생", "졸업"),
        ("승우아, 전역 축하해!", "승우", "사촌동생", "전역"),
        # a husband: either level is said, but never 아 after a vowel
        ("현우아, 결혼기념일 축하해!", "현우", "남편", "결혼기념일"),
        ("예나아, 메리 크리스마스!", "예나", "여자친구", "크리스마스"),
        ("수민야, 생일 못 챙겨서 정말 미안해.", "수민", "친구", "생일 못 챙겨서 사과"),
        ("준호 씨, 생일 축하해.", "준호", "친구", "생일"),
        ("민수야, 승진을 축하드립니다.", "박민수", "부장님", "승진"),
    ],
)
def test_a_start_with_a_wrong_address_fails_so_far(
    start: str, name: str, relation: str, reason: str
) -> None:
    request = _request(name, relation, reason)
    assert korean.address_slips(start, name, relation, None)
    failed = [label for label, check in SO_FAR.items() if not check(Case(request, ()), start)]
    assert failed == ["no slip in the address"], failed
    assert not quality.korean_address(request, start)  # and the whole message's check agrees


@pytest.mark.parametrize(
    ("start", "name", "relation"),
    [
        ("준호야, 졸업 축하해!", "준호", "동생"),
        ("현우야, 결혼기념일 축하해!", "현우", "남편"),
        ("민지 씨, 생일 축하해.", "민지", "아내"),  # either form to a wife
        ("수민아, 생일 못 챙겨서 정말 미안해.", "수민", "친구"),
        ("박민수 부장님, 승진을 축하드립니다.", "박민수", "부장님"),
        ("생일 축하해!", "준호", "친구"),  # no address yet: nothing wrong so far
    ],
)
def test_a_right_address_or_none_yet_passes(start: str, name: str, relation: str) -> None:
    assert not korean.address_slips(start, name, relation, None)
    assert quality.no_address_slip(_request(name, relation), start)


def test_no_bank_message_slips() -> None:
    """The bank is what the model copies."""
    for example in bank()["ko"]:
        if example.name:
            assert not korean.address_slips(
                example.message, example.name, example.relation, example.manner
            ), example.message
