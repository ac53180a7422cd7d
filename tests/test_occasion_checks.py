"""Issue 26's checks of sense (text/quality.py): the bad messages a hand read found on the
occasions the bank barely covered fail them, and good ones pass."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest

from messagebot.evaluation import judge
from messagebot.request import MessageRequest, validate_fields
from messagebot.text import quality
from messagebot.text.examples import bank

Check = Callable[[MessageRequest, str], bool]

NEIGHBOUR = {"name": "Mrs. Lee", "relation": "neighbor", "reason": "condolences", "language": "en"}
MISSED = {
    "name": "Jordan",
    "relation": "friend",
    "reason": "sorry I missed your birthday party",
    "language": "en",
}
SON = {"name": "Sam", "relation": "son", "reason": "leaving for college", "language": "en"}
BEREAVED = {"name": "정민", "relation": "친구", "reason": "아버님 부고 위로", "language": "ko"}
NEPHEW = {"name": "하준", "relation": "조카", "reason": "돌잔치", "language": "ko"}
JUNIOR = {"name": "이서연", "relation": "후배", "reason": "수능 응원", "language": "ko"}
BOSS = {"name": "Mr. Kim", "relation": "boss", "reason": "promotion", "language": "en"}


def request(fields: Mapping[str, object]) -> MessageRequest:
    return validate_fields(dict(fields))


# (check, request, the message a hand read found, a good one)
CASES: list[tuple[Check, Mapping[str, object], str, str]] = [
    (
        quality.no_other_occasion,
        NEIGHBOUR,
        "Mrs. Lee, thank you for your help. We are so sorry for your loss.",
        "Mrs. Lee, we are so sorry for your loss. We are next door if you need anything.",
    ),
    (
        quality.no_other_occasion,
        BEREAVED,
        "정민아, 부모님께 아버님을 위로해줘서 고마워. 오늘 하루 아버님 부고 위로.",
        "정민아, 소식 듣고 마음이 너무 아팠어. 아버님의 명복을 빌게.",
    ),
    (
        quality.no_other_occasion,
        JUNIOR,
        "이서연, 수능 응원 축하해! 고생 많았다.",
        "서연아, 그동안 정말 애썼어. 수능 잘 보고 와!",
    ),
    (
        quality.apologises,
        MISSED,
        "Happy birthday, Jordan! You're not old, you're vintage.",
        "Jordan, I'm so sorry I missed your birthday party. Dinner is on me this week.",
    ),
    (
        quality.reason_not_pasted,
        BEREAVED,
        "정민아, 부모님께 아버님을 위로해줘서 고마워. 오늘 하루 아버님 부고 위로.",
        "정민아, 아버님 소식 들었어. 힘들 때 언제든 연락해.",
    ),
    (
        quality.reason_not_pasted,
        JUNIOR,
        "이서연, 수능 응원 축하해! 고생 많았다.",
        "서연아, 수능 응원할게! 떨지 말고 잘 보고 와.",
    ),
    (
        quality.fits_role,
        SON,
        "Sam, it was a pleasure working with you. Best of luck in your next adventure!",
        "Sam, I can't believe you're off to college. Call home often. We love you.",
    ),
    (
        quality.fits_role,
        NEPHEW,
        "하준아, 돌잔치 축하해! 너랑 낳은 딸이 잘 생겼어.",
        "하준아, 첫돌 축하해! 건강하게 무럭무럭 자라렴.",
    ),
    (
        quality.fits_role,
        BOSS,
        "Congratulations on your promotion, Mr. Kim! I'm so proud of you.",
        "Congratulations on your promotion, Mr. Kim! It is well deserved.",
    ),
    (
        quality.no_repeats,
        {"name": "민준", "relation": "남동생", "reason": "입대", "language": "ko"},
        "민준아, 입대 잘하고 와! 휴가 나오면 제일 먼저 연락해. 민준아, 입대 잘하고 와!",
        "민준아, 입대 잘하고 와! 휴가 나오면 제일 먼저 연락해.",
    ),
    (
        quality.right_person,
        BEREAVED,
        "정민아, 아버님 소식 들었어. 아버님을 위해 할머니의 명복을 빌게.",
        "정민아, 아버님 소식 들었어. 아버님의 명복을 빌게.",
    ),
    (
        quality.right_person,
        {"name": "Mrs. Lee", "relation": "neighbor", "reason": "loss of her husband"},
        "Mrs. Lee, I'm so sorry about your wife. She was lovely.",
        "Mrs. Lee, I'm so sorry about your husband. He was a kind man.",
    ),
    (
        quality.fits_role,
        {"name": "은지", "relation": "언니", "reason": "출산", "language": "ko"},
        "언니, 출산 정말 축하해! 고생 많았어. 너랑 함께 줘서 고마워.",
        "언니, 출산 정말 축하해! 너무 고생 많았어.",
    ),
    (
        quality.fits_role,
        {"name": "준호", "relation": "친구", "reason": "입대", "language": "ko"},
        "준호야, 몸 건강히 잘 다녀와. 엄마는 매일 네 생각할게.",
        "준호야, 몸 건강히 잘 다녀와. 휴가 나오면 연락해.",
    ),
    (
        quality.fits_role,
        SON,
        "Sam, I am so excited to be leaving for college. I can't wait to meet you.",
        "Sam, I can't believe you're leaving for college. We will miss you.",
    ),
    (
        quality.no_cheer_on_loss,
        NEIGHBOUR,
        "Mrs. Lee, I am so sorry for your loss. Enjoy the weekend.",
        "Mrs. Lee, I am so sorry for your loss. You are in our thoughts.",
    ),
    (
        quality.no_cheer_on_loss,
        BEREAVED,
        "정민아, 아버님 명복을 빌게. 힘내고 화이팅.",
        "정민아, 아버님 명복을 빌게. 내가 곁에 있을게.",
    ),
]


@pytest.mark.parametrize(("check", "fields", "bad", "good"), CASES)
def test_the_bad_message_fails_and_the_good_one_passes(
    check: Check, fields: Mapping[str, object], bad: str, good: str
) -> None:
    assert not check(request(fields), bad)
    assert check(request(fields), good)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (MISSED, "Jordan, I'm so sorry I missed your birthday party. I hope it was fun."),
        # The occasion the reason names is no other occasion.
        (
            {"name": "Mia", "relation": "friend", "reason": "sorry I forgot your birthday"},
            "Mia, I'm sorry I forgot your birthday. Dinner this week is on me.",
        ),
        # A first birthday is a birthday; a recommendation that got you in names the 합격.
        (
            {"name": "Amy", "relation": "friend", "reason": "her baby's first birthday"},
            "Amy, happy first birthday to little Rosie!",
        ),
        (
            {"name": "박 선생님", "relation": "선생님", "reason": "추천서", "language": "ko"},
            "박 선생님, 써 주신 추천서 덕분에 합격했습니다. 정말 감사드립니다.",
        ),
        # "제대로" is no 제대; "정년 퇴직 축하드려요" is said, not a label.
        (
            {"name": "민지", "relation": "친구", "reason": "생일 못 챙겨서 사과", "language": "ko"},
            "민지야, 생일 제대로 못 챙겨서 정말 미안해.",
        ),
        (
            {"name": "삼촌", "relation": "삼촌", "reason": "정년 퇴직", "language": "ko"},
            "삼촌, 정년 퇴직 축하드려요! 그동안 정말 수고 많으셨어요.",
        ),
        # 사과드립니다 apologises.
        (
            {"relation": "고객님", "reason": "배송 지연 사과", "language": "ko"},
            "고객님, 배송이 늦어져 진심으로 사과드립니다.",
        ),
        # "행복했을 거야" comforts; it wishes no happy day.
        (
            {"name": "수빈", "relation": "동생", "reason": "condolences", "language": "ko"},
            "수빈아, 초코는 너를 만나서 정말 행복했을 거야. 많이 울어도 괜찮아.",
        ),
    ],
)
def test_good_messages_pass_every_new_check(fields: Mapping[str, object], message: str) -> None:
    req = request(fields)
    for check in (
        quality.no_other_occasion,
        quality.apologises,
        quality.no_cheer_on_loss,
        quality.reason_not_pasted,
        quality.fits_role,
    ):
        assert check(req, message), (check.__name__, message)


def test_the_issues_bad_messages_fail_the_evaluation() -> None:
    """Every bad message issue 26 quotes fails at least one criterion now."""
    bad = [
        (NEIGHBOUR, "Mrs. Lee, thank you for your help. We are so sorry for your loss."),
        (MISSED, "Happy birthday, Jordan! You're not old, you're vintage."),
        (SON, "Sam, it was a pleasure working with you. Best of luck in your next adventure!"),
        (BEREAVED, "정민아, 부모님께 아버님을 위로해줘서 고마워. 오늘 하루 아버님 부고 위로."),
        (NEPHEW, "하준아, 돌잔치 축하해! 너랑 낳은 딸이 잘 생겼어."),
        (JUNIOR, "이서연, 수능 응원 축하해! 고생 많았다."),
        (BOSS, "Congratulations on your promotion, Mr. Kim! I'm so proud of you."),
        (
            {"name": "준호", "relation": "친구", "reason": "입대", "language": "ko"},
            "준호아, 입대 잘하고 와!",
        ),
        (
            {"name": "박지훈", "relation": "사장님", "reason": "개업", "language": "ko"},
            "박지훈, 개업 축하합니다.",
        ),
        (
            {"name": "최수아", "relation": "선배", "reason": "이직", "language": "ko"},
            "최수아 씨, 이직 축하해요.",
        ),
    ]
    for fields, message in bad:
        assert not judge(request(fields), message).all_passed, message


def test_every_bank_message_passes_the_new_checks() -> None:
    """The bank is what the model copies: its own messages must pass what the model's will be
    judged by."""
    for language, examples in bank().items():
        for example in examples:
            req = request(
                {
                    "name": example.name,
                    "relation": example.relation,
                    "reason": example.reason,
                    "manner": example.manner,
                    "language": language,
                }
            )
            for check in (
                quality.no_other_occasion,
                quality.apologises,
                quality.no_cheer_on_loss,
                quality.reason_not_pasted,
                quality.fits_role,
                quality.calm,
                quality.no_repeats,
                quality.right_person,
                quality.no_invented_numbers,
                quality.greets_once,
                quality.no_odd_phrase,
            ):
                assert check(req, example.message), (check.__name__, example.message)
