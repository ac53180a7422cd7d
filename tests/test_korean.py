"""Korean address and speech level from the relation, occasions, and the example bank (issue 17)."""

from __future__ import annotations

import pytest

from messagebot.request import validate_fields
from messagebot.text import examples, korean, occasions
from messagebot.text.examples import EXAMPLES_PER_PROMPT, bank, select
from messagebot.text.prompts import build_prompt


@pytest.mark.parametrize(
    ("word", "batchim"),
    [
        ("지영", True),
        ("민수", False),
        ("서연", True),
        ("하은", True),
        ("지수", False),
        ("Tom", False),
    ],
)
def test_batchim_from_the_last_syllable(word: str, batchim: bool) -> None:
    assert korean.has_batchim(word) is batchim


def test_vocative_follows_the_batchim() -> None:
    assert korean.vocative("지영") == "지영아"
    assert korean.vocative("민수") == "민수야"
    assert korean.given_name("박민수") == "민수"
    assert korean.given_name("민수") == "민수"
    assert korean.given_name("남궁") == "남궁"  # two syllables: left alone


@pytest.mark.parametrize(
    ("name", "relation", "manner", "level", "address"),
    [
        ("지영", "친구", None, "banmal", "지영아"),
        ("박민수", "친구", None, "banmal", "민수야"),
        ("준호", "동생", "장난스럽게", "banmal", "준호야"),
        ("서연", "딸", None, "banmal", "서연아"),
        ("태호", "아들", None, "banmal", "태호야"),
        ("박민수", "부장님", None, "polite", "박민수 부장님"),
        ("박 부장님", "상사", "공손하게", "polite", "박 부장님"),
        ("박 부장", "상사", None, "polite", "박 부장님"),
        ("이지은", "선생님", None, "polite", "이지은 선생님"),
        ("할머니", "할머니", None, "polite", "할머니"),
        (None, "고객님", None, "polite", "고객님"),
        (None, "팀원들", None, "polite", "여러분"),
        ("수진", "동료", "친근하게", "polite", "수진 씨"),
        ("최 과장님", "거래처 담당자", None, "polite", "최 과장님"),
        # either: follows the tone
        ("민지", "아내", "따뜻하게", "banmal", "민지야"),
        ("민지", "아내", "정중하게", "polite", "민지 씨"),
        ("엄마", "엄마", "따뜻하게", "banmal", "엄마"),
        ("엄마", "엄마", "공손하게", "polite", "엄마"),
        ("김영희", "엄마", None, "banmal", "엄마"),  # you do not call your mother by name
        ("Tom", "친구", None, "banmal", "Tom"),
    ],
)
def test_address_and_level(
    name: str | None, relation: str, manner: str | None, level: str, address: str
) -> None:
    form = korean.address(name, relation, manner)
    assert (form.level, form.address) == (level, address)


def test_the_occasion_has_its_usual_phrase() -> None:
    assert korean.phrase("lunar_new_year", "polite") == "새해 복 많이 받으세요"
    assert korean.phrase("lunar_new_year", "banmal") == "새해 복 많이 받아"
    assert korean.phrase("birthday", "polite", "grandparent") == "생신 축하드려요"
    assert korean.phrase("birthday", "polite", "colleague") == "생일 축하드려요"
    assert korean.phrase("other", "polite") is None


def test_the_prompt_carries_the_phrase_not_a_literal_congratulation() -> None:
    request = validate_fields({"name": "할머니", "relation": "할머니", "reason": "설날"})
    text = build_prompt(request, "ko", "completion").text
    last = text.rsplit("\n\n", 1)[1].splitlines()
    assert last == [
        "To: 할머니 (할머니)",
        "Occasion: 설날 (새해 복 많이 받으세요)",
        "Speech: 존댓말",
        "Address: 할머니",
        "Tone: 따뜻하게",
        "Language: Korean",
        "Message:",
    ]


def test_speech_levels_are_read_from_sentence_ends() -> None:
    assert korean.sentence_levels("지영아, 생일 축하해! 사랑해.", ("지영아",)) == [
        "banmal",
        "banmal",
    ]
    assert korean.sentence_levels("부장님, 승진 축하드립니다. 늘 건강하세요") == [
        "polite",
        "polite",
    ]
    assert korean.sentence_levels("메리 크리스마스!") == ["neutral"]
    assert korean.level_fits("준호야, 입대 축하해!", "준호", "동생", None)
    assert not korean.level_fits("준호, 입대 축하드려요!", "준호", "동생", None)
    assert not korean.level_fits("부장님, 승진 축하해!", "박 부장님", "상사", None)
    assert korean.level_fits("엄마, 사랑해! 건강하세요.", "엄마", "엄마", None)  # either


def test_the_address_check() -> None:
    assert not korean.address_fits("수진 씨, 취업 축하드려요!", "수진", "친구", None)
    assert korean.address_fits("수진아, 취업 축하해!", "수진", "친구", None)
    assert not korean.address_fits("박민수, 승진 축하드립니다.", "박민수", "부장님", None)
    assert korean.address_fits("박민수 부장님, 승진 축하드립니다.", "박민수", "부장님", None)
    assert not korean.address_fits("수진아, 승진 축하해요!", "수진", "동료", None)
    assert korean.address_fits("수진 씨, 승진 축하해요!", "수진", "동료", None)


@pytest.mark.parametrize(
    ("reason", "occasion"),
    [
        ("설날", "lunar_new_year"),
        ("Lunar New Year", "lunar_new_year"),
        ("결혼기념일", "anniversary"),
        ("wedding anniversary", "anniversary"),
        ("결혼", "wedding"),
        ("thanks for the birthday gift", "thanks"),
        ("쾌유 기원", "get_well"),
        ("졸업 감사", "thanks"),
        ("이직 축하", "job_change"),
        ("Mother's Day", "mothers_day"),
        ("a walk in the park", "other"),
    ],
)
def test_occasions(reason: str, occasion: str) -> None:
    assert occasions.classify(reason) == occasion


def test_other_seasons_are_caught() -> None:
    assert occasions.foreign_seasons("birthday", "생일 축하해! 새해에 또 만나자") == ["new_year"]
    assert occasions.foreign_seasons("promotion", "Have a wonderful holiday!") == ["holiday"]
    assert occasions.foreign_seasons("christmas", "Merry Christmas and a happy New Year!") == []
    assert occasions.foreign_seasons("lunar_new_year", "할머니, 새해 복 많이 받으세요") == []


def test_the_bank_is_large_tagged_and_its_korean_fits_its_own_tags() -> None:
    examples = bank()
    assert len(examples["en"]) >= 90 and len(examples["ko"]) >= 120
    for language, entries in examples.items():
        assert len({e.message for e in entries}) == len(entries), language
        for example in entries:
            assert example.occasion != "other", example.message
            assert 10 <= len(example.message) <= 350  # bank_more.json has long ones (issue 26)
            if language == "ko":
                assert example.level in ("banmal", "polite")
                assert korean.level_fits(
                    example.message, example.name, example.relation, example.manner
                ), example.message
                assert korean.address_fits(
                    example.message, example.name, example.relation, example.manner
                ), example.message
                assert not occasions.foreign_seasons(example.occasion, example.message), (
                    example.message
                )


def test_selection_matches_occasion_and_level_and_never_another_season() -> None:
    chosen = select("ko", "promotion", "friend", "banmal", "playful", 100)
    assert len(chosen) == EXAMPLES_PER_PROMPT
    assert chosen[-1].occasion == "promotion" and chosen[-1].level == "banmal"
    assert all(e.level == "banmal" for e in chosen)
    for occasion in ("birthday", "promotion", "thanks", "other", "get_well"):
        for example in select("ko", occasion, "friend", "polite", "warm", 150):
            assert example.occasion not in occasions.SEASONAL, (occasion, example.message)
    assert all(
        e.occasion == "lunar_new_year"
        for e in select("ko", "lunar_new_year", "grandparent", "polite", "formal", 100)
    )


def test_a_polite_request_gets_no_banmal_examples() -> None:
    # A teacher thanked at graduation: the bank's graduation messages are 반말, and a 반말
    # example would be copied, level and all.
    for occasion in ("graduation", "thanks", "birthday", "enlistment"):
        chosen = select("ko", occasion, "teacher", "polite", "formal", 150)
        assert all(e.level == "polite" for e in chosen), occasion


def test_the_bank_is_read_once_and_each_selection_is_reused() -> None:
    """What keeps building a prompt cheap: the bank is read and tagged once per process, and a
    request with the same key as an earlier one reuses its selection. Counted by the caches
    themselves, not timed (this once asserted < 5 ms per request, which a busy shared machine
    can break); what it costs: bench/prompt.py."""
    requests = [
        validate_fields(
            {"name": f"지영{i}", "relation": "친구", "reason": "생일", "max_length": 60 + i}
        )
        for i in range(200)
    ]
    build_prompt(requests[0], "ko", "completion")  # loads the bank, if no test has yet
    tagged = bank()
    loaded = bank.cache_info()
    for request in requests:  # each max_length is a new selection
        build_prompt(request, "ko", "completion")
    read = bank.cache_info()
    assert read.misses == loaded.misses and read.currsize == 1, read  # not read again
    assert read.hits >= loaded.hits + len(requests), read  # asked, and answered from memory
    selected = examples._ranked.cache_info()
    for request in requests:  # the same keys again: the same selections, not scored again
        build_prompt(request, "ko", "completion")
    again = examples._ranked.cache_info()
    assert again.misses == selected.misses, (selected, again)
    assert again.hits == selected.hits + len(requests), (selected, again)
    assert bank() is tagged
