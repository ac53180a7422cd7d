"""Checks that came from reading the embedded model's n = 3 messages by hand (issue 26,
docs/eval/issue-26-n3-read.md): each bad message below was written by the model and passed
every check before; each good one must still pass. The start of a message is judged by them
too (SO_FAR), so the embedded model writes such a sentence again instead of sending it."""

from __future__ import annotations

import pytest

from messagebot.request import MessageRequest
from messagebot.text import quality
from messagebot.text.prompts import build_prompt
from messagebot.text.quality import SO_FAR, Case


def _request(**fields: str) -> MessageRequest:
    return MessageRequest.model_validate(fields)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"name": "David", "relation": "husband", "reason": "wedding anniversary"},
            "Happy anniversary, David! Ten years, and I would still choose you every single day.",
        ),
        (
            {"name": "최 대표님", "relation": "거래처", "reason": "창립 기념일"},
            "최 대표님, 창립 5주년을 축하드립니다.",
        ),
        (
            {"name": "할머니", "relation": "할머니", "reason": "설날"},
            "2018년도 건강하시고 행복하세요.",
        ),
        (
            {"name": "수진", "relation": "친구", "reason": "취업"},
            "수진아, 취업 축하해! 이제 직장인으로 10년이 넘게 살았네.",
        ),
        ({"name": "현우", "relation": "남편", "reason": "결혼기념일"}, "함께한 지 십 년이 됐네."),
    ],
)
def test_a_number_the_request_does_not_give_is_invented(
    fields: dict[str, str], message: str
) -> None:
    assert not quality.no_invented_numbers(_request(**fields), message)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"name": "Grandpa", "relation": "grandfather", "reason": "70th birthday"},
            "Happy 70th birthday, Grandpa! Seventy years young.",
        ),
        ({"name": "지우", "relation": "딸", "reason": "스무 살 생일"}, "지우야, 생일 축하해!"),
        (
            {"name": "Ms. Lopez", "relation": "client", "reason": "company's 10th anniversary"},
            "Ms. Lopez, congratulations on your company's 10th anniversary.",
        ),
        ({"name": "Rachel", "relation": "friend", "reason": "Hanukkah"}, "Eight nights of light!"),
    ],
)
def test_a_number_the_request_gives_is_fine(fields: dict[str, str], message: str) -> None:
    assert quality.no_invented_numbers(_request(**fields), message)


@pytest.mark.parametrize(
    "message",
    [
        "Happy Diwali, Priya! Wishing you a happy Diwali.",
        "지영아, 결혼 축하해! 결혼 진심으로 축하해!",
        "Congratulations, Emma! You did it! Congratulations on your graduation, Emma!",
        "박지훈 사장님, 개업을 축하드립니다. 새 매장 개업을 축하드립니다.",
    ],
)
def test_a_greeting_said_twice_fails(message: str) -> None:
    request = _request(name="Priya", relation="friend", reason="Diwali")
    assert not quality.greets_once(request, message)
    failed = [label for label, check in SO_FAR.items() if not check(Case(request, ()), message)]
    assert "greets once" in failed


@pytest.mark.parametrize(
    "message",
    [
        "Happy anniversary, Jess! Wishing you and Ryan many more happy years together.",
        "현우야, 승진 축하해! 이번 주에 축하 겸 한잔하자.",
        "Happy birthday, Minji! I'm so happy for you.",
    ],
)
def test_one_greeting_and_other_uses_of_its_words_pass(message: str) -> None:
    assert quality.greets_once(_request(relation="friend", reason="birthday"), message)


def test_no_english_my_before_a_korean_relation() -> None:
    """ "my 고객님": the completion prompt wrote `To: my 고객님` for a Korean request without a
    name, and the model copied it. The prompt no longer says it, and the echo check catches it."""
    request = _request(relation="고객님", reason="설날", language="ko")
    prompt = build_prompt(request, "ko", "completion")
    assert "To: my " not in prompt.text
    assert "To: 고객님\n" in prompt.text
    assert not quality.echoes_nothing(request, "my 고객님, 새해 복 많이 받으세요!")
    assert quality.echoes_nothing(request, "고객님, 새해 복 많이 받으세요!")
    english = build_prompt(_request(relation="boss", reason="Chuseok"), "en", "completion")
    assert "To: my boss\n" in english.text


@pytest.mark.parametrize(
    ("fields", "first", "named"),
    [
        (
            {"name": "Mike", "relation": "coworker", "reason": "retirement"},
            "Thank you for your hard work.",
            "Mike, thank you for your hard work.",
        ),
        (
            {"name": "Tom", "relation": "friend", "reason": "get well soon"},
            "I'm sorry you're unwell.",
            "Tom, I'm sorry you're unwell.",
        ),
        (
            {"name": "이지은", "relation": "선생님", "reason": "졸업 감사", "language": "ko"},
            "졸업까지 이끌어 주셔서 정말 감사드립니다.",
            "이지은 선생님, 정말 감사드립니다.",
        ),
    ],
)
def test_a_first_sentence_that_names_nobody_is_written_again(
    fields: dict[str, str], first: str, named: str
) -> None:
    """The hand reads of issue 26's runs: a message whose first sentence did not name the
    person never named them later ("Thank you for your hard work and dedication." to Mike on
    his retirement), so the first sentence is judged on it."""
    request = _request(**fields)
    failed = [label for label, check in SO_FAR.items() if not check(Case(request, ()), first)]
    assert failed == ["names the person"]
    assert all(check(Case(request, ()), named) for check in SO_FAR.values())


def test_a_title_or_a_kin_word_names_the_person() -> None:
    """ "Happy birthday, Mom!" to a mother named Sarah, "부장님, …" to 박민수 부장님: the first
    sentence names them (it must, SO_FAR)."""
    assert quality.names_the_person(
        _request(name="Sarah", relation="mother", reason="birthday"), "Happy birthday, Mom!"
    )
    assert quality.names_the_person(
        _request(name="박민수", relation="부장님", reason="승진", language="ko"),
        "부장님, 승진을 진심으로 축하드립니다.",
    )
    assert quality.names_the_person(
        _request(name="최수아", relation="선배", reason="이직", language="ko"),
        "선배님, 이직 축하드려요.",
    )
    assert not quality.names_the_person(
        _request(name="Mike", relation="coworker", reason="retirement"), "Thank you, everyone."
    )


def test_speaking_of_an_aunt_is_not_speaking_as_one() -> None:
    mother = _request(name="엄마", relation="엄마", reason="생신", language="ko")
    assert quality.fits_role(mother, "엄마, 생신 축하해! 이모가 안부 전해 달래.")
    wife = _request(name="민지", relation="아내", reason="생일", language="ko")
    assert not quality.fits_role(wife, "민지야, 생일 축하해! 이모가 선물 들고 곧 갈게.")


def test_home_soon_is_odd_only_outside_the_household() -> None:
    friend = _request(name="Jo", relation="friend", reason="get well soon")
    assert not quality.no_odd_phrase(friend, "Get well soon, Jo. I\u2019ll be home early.")
    assert quality.no_odd_phrase(friend, "Get well soon, Jo. I'll be back in town next week.")
    mom = _request(name="Mom", relation="mother", reason="birthday")
    assert quality.no_odd_phrase(mom, "Happy birthday, Mom! I'll be home soon.")


# Messages from the hand read of runs C–J (docs/eval/issue-26-length-read.md), marked not
# sendable there, that passed every check then; and ones marked sendable beside them.
@pytest.mark.parametrize(
    ("fields", "message", "check"),
    [
        ({"name": "Ben", "relation": "friend", "reason": "housewarming"},
         "Congratulations on the new home, Ben! I'm so glad you're here.", "no_odd_phrase"),
        ({"name": "Anna", "relation": "colleague", "reason": "leaving for a new job"},
         "Congratulations on your new job, Anna! I'm so glad you're leaving for a new job.",
         "no_odd_phrase"),
        ({"name": "Grandma", "relation": "grandmother", "reason": "Easter"},
         "Happy Easter Grandma! I'm so glad you had a great Easter.", "no_odd_phrase"),
        ({"name": "Mr. Patel", "relation": "client", "reason": "grand opening of his restaurant"},
         "Mr. Patel, congratulations on your grand opening! I'm very happy to be your first "
         "customer.", "no_odd_phrase"),
        ({"name": "Chris", "relation": "neighbor", "reason": "thanks for watering my plants"},
         "Chris, thank you for watering my plants. I\u2019m glad you like them.", "no_odd_phrase"),
        ({"name": "Jake", "relation": "brother", "reason": "new job"},
         "Jake, congratulations on your first job!", "no_odd_phrase"),
        ({"name": "민준", "relation": "아들", "reason": "수능 응원", "language": "ko"},
         "민준아, 수능 잘 봐! 응원 잘 하고 와.", "no_odd_phrase"),
        ({"name": "서연", "relation": "후배", "reason": "수능 응원", "language": "ko"},
         "서연아, 수능 잘 응원!", "no_odd_phrase"),
        ({"name": "준호", "relation": "동생", "reason": "퇴원", "language": "ko"},
         "준호야, 퇴원했다니 걱정 많이 했어. 푹 쉬어.", "no_odd_phrase"),
        ({"name": "Aunt Sue", "relation": "aunt", "reason": "thanks for the birthday gift"},
         "Thank you for the birthday gift, Aunt Sue. It was a pleasure to meet you.", "fits_role"),
        ({"relation": "고객님", "reason": "배송 지연 사과", "language": "ko"},
         "고객님, 배송이 늦어져 정말 죄송합니다. 다음엔 제가 꼭 밥 살게요.", "fits_role"),
        ({"name": "정민", "relation": "친구", "reason": "아버님 부고 위로", "language": "ko"},
         "정민아, 부고 위로, 아버님을 많이 사랑해.", "reason_not_pasted"),
        ({"name": "이지은", "relation": "선생님", "reason": "졸업 감사", "language": "ko"},
         "졸업 감사, 이지은 선생님, 앞으로도 잘 부탁드립니다.", "reason_not_pasted"),
        ({"name": "준호", "relation": "친구", "reason": "입대", "language": "ko"},
         "준호야, 입대 잘하고 와! 푹자고 푹자고.", "no_stutter"),
        ({"name": "아빠", "relation": "아빠", "reason": "생신", "language": "ko"},
         "아빠 아빠, 생신 축하해!", "no_stutter"),
        ({"name": "서준", "relation": "친구", "reason": "새해", "language": "ko"},
         "서준아, 새해 복 많이 받아! 올해도 잘 잘 다녀와.", "no_stutter"),
        ({"name": "준호", "relation": "동생", "reason": "퇴원", "language": "ko"},
         "준호야, 푹 쉬고 푹 쉬고 푹 쉬고.", "no_stutter"),
        ({"name": "지호", "relation": "조카", "reason": "입학", "language": "ko"},
         "지호야, 입학 축하해! 이제 밥 먹을 때도 밥 먹을 때도!", "no_stutter"),
        ({"name": "Linda", "relation": "wife", "reason": "wedding anniversary"},
         "Happy anniversary, Linda. You are my best friend, my best friend.", "no_stutter"),
        ({"name": "Linda", "relation": "wife", "reason": "wedding anniversary"},
         "Thank you, thank you, Linda. You are my hero, my hero.", "no_stutter"),
        ({"name": "Kate", "relation": "sister", "reason": "new baby"},
         "Kate, congratulations on your new baby girl! She is so cute.", "no_odd_phrase"),
        ({"name": "Kate", "relation": "sister", "reason": "new baby"},
         "Kate, congrats on your new baby! She is so cute.", "no_odd_phrase"),
        ({"name": "은지", "relation": "언니", "reason": "출산", "language": "ko"},
         "언니, 예쁜 공주님 출산 축하해! 몸조리 잘해.", "no_odd_phrase"),
        ({"name": "Kate", "relation": "friend", "reason": "her baby's first birthday"},
         "Kate, congratulations on your baby's first birthday! She is so cute!", "no_odd_phrase"),
        ({"name": "지현", "relation": "친구", "reason": "아기 백일", "language": "ko"},
         "지현아, 백일 축하해! 아들래미랑 함께 가자!", "no_odd_phrase"),
        ({"name": "Minji", "relation": "wife", "reason": "birthday"},
         "I love you, Minji! Happy birthday, Minji!", "calls_once"),
        ({"name": "최 과장님", "relation": "거래처 담당자", "reason": "감사", "language": "ko"},
         "최 과장님, 감사드립니다. 최 과장님, 정말 감사합니다.", "calls_once"),
        ({"name": "이지은", "relation": "선생님", "reason": "졸업 감사", "language": "ko"},
         "이지은 선생님, 졸업할 수 있었던 건 모두 이지은 선생님 덕분입니다.", "calls_once"),
        ({"name": "김 선생님", "relation": "선생님", "reason": "스승의 날", "language": "ko"},
         "김 선생님, 감사드립니다. 김 선생님 덕분에 여기까지 올 수 있었어요.", "calls_once"),
        ({"name": "David", "relation": "husband", "reason": "wedding anniversary"},
         "Happy anniversary, David. You are the best thing I've ever had.", "no_odd_phrase"),
        ({"name": "Omar", "relation": "colleague", "reason": "Eid"},
         "Happy Eid Mubarak, Omar! I hope you have a wonderful Eid.", "no_odd_phrase"),
        ({"name": "Priya", "relation": "friend", "reason": "Diwali"},
         "Diwali, Priya! May the festival of lights bring you joy.", "no_odd_phrase"),
        ({"name": "Ms. Adams", "relation": "boss", "reason": "thank you for the recommendation"},
         "Ms. Adams, thank you for the recommendation letter. I got the job, and you are a big "
         "part of why.", "no_odd_phrase"),
        ({"name": "Ms. Adams", "relation": "boss", "reason": "thank you for the recommendation"},
         "Mr. Adams, thank you for the recommendation letter.", "right_title"),
        ({"name": "Sarah", "relation": "colleague", "reason": "promotion"},
         "Ms. Sarah, congratulations on your promotion!", "right_title"),
        ({"name": "David", "relation": "husband", "reason": "wedding anniversary"},
         "Happy anniversary, David! I'm so happy to have you as my wife.", "fits_role"),
        ({"name": "Dad", "relation": "father", "reason": "Father's Day"},
         "Happy Father's Day, Dad! The kids love you.", "no_odd_phrase"),
        ({"name": "김지훈", "relation": "팀장님", "reason": "퇴직", "language": "ko"},
         "김지훈, 그동안 정말 수고 많으셨습니다.", "no_address_slip"),
        ({"name": "최수아", "relation": "선배", "reason": "이직", "language": "ko"},
         "최수아, 이직 축하드려요!", "no_address_slip"),
        ({"name": "은지", "relation": "언니", "reason": "출산", "language": "ko"},
         "은지, 출산 정말 축하해! 고생 많았어.", "no_address_slip"),
        ({"name": "민준", "relation": "남동생", "reason": "입대", "language": "ko"},
         "민준아, 입대 잘 다녀와. 엄마는 매일 네 생각할게.", "fits_role"),
        ({"name": "지호", "relation": "조카", "reason": "입학", "language": "ko"},
         "지호야, 입학 축하해! 엄마 아빠가 늘 응원할게.", "fits_role"),
        ({"name": "Tom", "relation": "friend", "reason": "get well soon"},
         "Get well soon, Tom. I'm glad you're feeling better.", "no_odd_phrase"),
        ({"name": "서연", "relation": "딸", "reason": "입학", "language": "ko"},
         "서연아, 입학 축하해! 입학! 이제 진짜 대학생이네.", "reason_not_pasted"),
        ({"name": "수진", "relation": "동료", "reason": "승진", "language": "ko"},
         "수진 씨, 새 회사로 승진 축하드립니다. 응원할게요!", "no_other_occasion"),
    ],
)  # fmt: skip
def test_what_the_hand_reads_refused_is_refused(
    fields: dict[str, str], message: str, check: str
) -> None:
    assert not getattr(quality, check)(_request(**fields), message)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        # Where being glad of someone's being there or back is the occasion.
        ({"name": "Dad", "relation": "father", "reason": "home from the hospital"},
         "Dad, I'm so glad you're home from the hospital. Take it easy."),
        ({"name": "Mike", "relation": "friend", "reason": "back home after military service"},
         "Mike, I'm so glad you are back home."),
        ({"name": "Lily", "relation": "niece", "reason": "new baby"},
         "Welcome to the world, Lily! We're so glad you're here."),
        ({"name": "Chris", "relation": "neighbor", "reason": "thanks for watering my plants"},
         "Thanks for watering my plants, Chris! I hope you like the cookies."),
        ({"name": "Sam", "relation": "son", "reason": "first job"},
         "Congratulations on your first job, Sam!"),
        ({"name": "민준", "relation": "아들", "reason": "수능 응원", "language": "ko"},
         "민준아, 수능 잘 봐! 늘 응원해."),
        ({"name": "준호", "relation": "동생", "reason": "퇴원", "language": "ko"},
         "준호야, 퇴원 축하해! 그동안 걱정 많이 했어."),
        ({"name": "최 과장님", "relation": "거래처 담당자", "reason": "감사", "language": "ko"},
         "최 과장님, 큰 도움 주셔서 감사드립니다. 다음엔 제가 커피 살게요!"),
        ({"name": "윤 교수님", "relation": "교수님", "reason": "추천서 감사", "language": "ko"},
         "윤 교수님, 좋은 추천서 감사합니다."),
        ({"name": "아빠", "relation": "아빠", "reason": "생신", "language": "ko"},
         "아빠, 생신 축하해! 아빠, 오늘 하루도 행복하게 보내."),
        ({"name": "지수", "relation": "친구", "reason": "생일", "language": "ko"},
         "지수야, 생일 정말 정말 축하해!"),
        ({"name": "Professor Hill", "relation": "professor", "reason": "thanks for the letter"},
         "Dr. Hill, thank you so much for your recommendation letter."),
        ({"name": "Omar", "relation": "colleague", "reason": "Eid"},
         "Eid Mubarak, Omar! Wishing you and your family a joyful Eid."),
        ({"name": "Ms. Adams", "relation": "boss", "reason": "thanks, I got the job offer"},
         "Ms. Adams, thank you for the recommendation. I got the job, thanks to you."),
        ({"name": "Minji", "relation": "wife", "reason": "birthday"},
         "Happy birthday, Minji! You're the best wife I know."),
        ({"name": "Minji", "relation": "wife", "reason": "birthday"},
         "Happy birthday, Minji! The kids and I love you."),
        ({"name": "이서연", "relation": "후배", "reason": "수능 응원", "language": "ko"},
         "이서연, 수능 잘 보고 와! 응원한다."),
        ({"name": "최수아", "relation": "선배", "reason": "이직", "language": "ko"},
         "수아 선배님, 이직 축하드려요!"),
        ({"name": "은지", "relation": "언니", "reason": "출산", "language": "ko"},
         "언니, 출산 정말 축하해! 은지 언니 최고야."),
        ({"name": "지성", "relation": "아들", "reason": "입대", "language": "ko"},
         "지성아, 몸 건강히 잘 다녀와. 엄마는 매일 네 생각할게."),
        ({"name": "하준", "relation": "조카", "reason": "돌잔치", "language": "ko"},
         "하준아, 첫돌 축하해! 이모가 많이 사랑해."),
        ({"name": "Tom", "relation": "coworker", "reason": "recovering after surgery"},
         "Tom, I'm glad you're feeling better. Take it slow."),
        ({"name": "Dad", "relation": "father", "reason": "home from the hospital"},
         "Dad, I'm so glad you're feeling better. Take it easy."),
        ({"name": "서연", "relation": "딸", "reason": "입학", "language": "ko"},
         "서연아, 입학 축하해! 새 친구들이랑 즐겁게 지내."),
        ({"name": "민수", "relation": "동료", "reason": "이직", "language": "ko"},
         "민수 씨, 새 회사로 이직 축하해요!"),
        ({"name": "지은", "relation": "동생", "reason": "출산", "language": "ko"},
         "지은아, 출산 축하해! 우리 지은이가 엄마가 되다니 실감이 안 나."),
    ],
)  # fmt: skip
def test_what_the_hand_reads_sent_passes(fields: dict[str, str], message: str) -> None:
    request = _request(**fields)
    failed = [label for label, check in SO_FAR.items() if not check(Case(request, ()), message)]
    assert failed == []


def test_the_example_copied_most_is_of_the_same_relation() -> None:
    """The last example is the one the base model copies most: a friend's "먼저 연락해 줘서
    정말 고마웠어" came last for a wife, and was copied word for word (runs J, K and M). Now
    an example of the request's relation and occasion goes last whenever one is chosen, and
    a parent's "엄마는 …" is not shown for a younger brother or a nephew."""
    from messagebot.text import examples

    for variant in range(40):
        chosen = examples.select("ko", "birthday", "partner", "banmal", "warm", 150, "야", variant)
        if any(e.relation_class == "partner" for e in chosen):
            assert chosen[-1].relation_class == "partner", (variant, chosen[-1].message)
        brother = examples.select(
            "ko", "enlistment", "younger", "banmal", "warm", 100, "아", variant
        )
        assert not any("엄마는" in e.message or "아빠는" in e.message for e in brother), variant


@pytest.mark.parametrize(
    ("reason", "message", "named"),
    [
        # What the hand reads refused: thanks, but not for the 졸업 or the 추천서.
        ("졸업 감사", "이지은 선생님, 정말 감사합니다. 앞으로도 더 열심히 하겠습니다.", False),
        ("추천서 감사", "윤 교수님, 감사드립니다. 좋은 소식으로 꼭 보답하겠습니다.", False),
        ("졸업 감사", "이지은 선생님, 덕분에 무사히 졸업했습니다. 정말 감사했습니다.", True),
        ("추천서 감사", "윤 교수님, 추천해 주셔서 진심으로 감사드립니다.", True),
        ("생일 선물 감사", "이모, 보내 주신 선물 정말 마음에 들어요. 감사합니다!", True),
        # Thanks for nothing named: any thanks names it, as before.
        ("감사", "최 과장님, 늘 도와주셔서 감사합니다.", True),
    ],
)
def test_korean_thanks_for_something_names_it(reason: str, message: str, named: bool) -> None:
    case = Case(_request(name="이지은", relation="선생님", reason=reason, language="ko"))
    assert quality.names_the_occasion(case, message) is named
