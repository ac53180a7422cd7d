"""Messages a person would send that the checks of the hand read of runs C–N refused (the
second read of that change): each is natural, and each check runs on every sentence the
embedded model writes (SO_FAR), so a false refusal costs a rewrite or an ended message."""

from __future__ import annotations

import pytest

from messagebot.request import MessageRequest
from messagebot.text import quality
from messagebot.text.quality import SO_FAR, Case


def _request(**fields: str) -> MessageRequest:
    return MessageRequest.model_validate(fields)


@pytest.mark.parametrize(
    ("fields", "message", "check"),
    [
        # A reason that is itself said, or that has no letters ("" is in any message's end).
        ({"name": "지수", "relation": "친구", "reason": "메리 크리스마스", "language": "ko"},
         "지수야! 메리 크리스마스!", "reason_not_pasted"),
        ({"name": "엄마", "relation": "엄마", "reason": "사랑해", "language": "ko"},
         "엄마, 늘 고마워. 사랑해!", "reason_not_pasted"),
        ({"name": "할머니", "relation": "할머니", "reason": "새해 복 많이 받으세요",
          "language": "ko"},
         "할머니, 올 한 해도 건강하세요. 새해 복 많이 받으세요!", "reason_not_pasted"),
        ({"name": "지수", "relation": "친구", "reason": "🎉", "language": "ko"},
         "지수야, 축하해! 멋지다.", "reason_not_pasted"),
        # The sender's own word for themself, to a spouse.
        ({"name": "David", "relation": "husband", "reason": "wedding anniversary"},
         "Happy anniversary, David! I'm so lucky to be your wife.", "fits_role"),
        ({"name": "David", "relation": "husband", "reason": "birthday"},
         "Happy birthday, David! Love, your loving wife.", "fits_role"),
        ({"name": "Minji", "relation": "wife", "reason": "birthday"},
         "Happy birthday, Minji! I'm the luckiest husband alive.", "fits_role"),
        # A name that is also a word, said as a word.
        ({"name": "Will", "relation": "friend", "reason": "birthday"},
         "Happy birthday, Will! I will, of course, call you later.", "calls_once"),
        ({"name": "Hope", "relation": "friend", "reason": "birthday"},
         "Happy birthday, Hope! I hope, truly, your day is great.", "calls_once"),
        # A kin word, not a name, called again (as "아빠, … 아빠, …" is).
        ({"name": "은지", "relation": "언니", "reason": "생일", "language": "ko"},
         "언니, 생일 축하해! 언니, 오늘 맛있는 거 먹자.", "calls_once"),
        ({"name": "민수", "relation": "형", "reason": "생일", "language": "ko"},
         "형, 생일 축하해! 형, 오늘 한잔하자.", "calls_once"),
        # Words said twice on purpose.
        ({"name": "Tom", "relation": "friend", "reason": "farewell"},
         "Tom, take care and bye bye!", "no_stutter"),
        ({"name": "Tom", "relation": "friend", "reason": "birthday"},
         "Happy birthday, Tom! I'm really really happy for you.", "no_stutter"),
        ({"name": "할머니", "relation": "할머니", "reason": "생신", "language": "ko"},
         "할머니, 생신 축하드려요! 오래 오래 건강하세요.", "no_stutter"),
        ({"name": "지수", "relation": "친구", "reason": "생일", "language": "ko"},
         "지수야, 생일 축하해! 하하 하하", "no_stutter"),
        ({"name": "Grandma", "relation": "grandmother", "reason": "thanks for the sweater"},
         "Thank you, thank you, Grandma! I love the sweater.", "no_stutter"),
        ({"name": "Tom", "relation": "friend", "reason": "farewell"},
         "Tom, we'll miss you more and more each day.", "no_stutter"),
        # The title alone after the address, and a name without a title said twice.
        ({"name": "이지은", "relation": "선생님", "reason": "졸업 감사", "language": "ko"},
         "이지은 선생님, 졸업할 수 있었던 건 모두 선생님 덕분입니다. 감사합니다.", "calls_once"),
        ({"name": "지수", "relation": "친구", "reason": "생일", "language": "ko"},
         "지수야, 생일 축하해! 오늘은 지수만 생각하는 날이야.", "calls_once"),
        # A newborn's sex that the request gives.
        ({"name": "Lena", "relation": "cousin", "reason": "new baby girl"},
         "Lena, congratulations on your baby girl! She is perfect.", "no_odd_phrase"),
        ({"name": "은지", "relation": "언니", "reason": "득남", "language": "ko"},
         "언니, 득남 축하해! 아들 얼른 보고 싶다.", "no_odd_phrase"),
        ({"name": "Kate", "relation": "sister", "reason": "new baby"},
         "Kate, congratulations on your new baby! Wishing you all lots of love and sleep.",
         "no_odd_phrase"),
        ({"name": "Mia", "relation": "niece", "reason": "first birthday"},
         "Happy first birthday, Mia! She is the sweetest girl we know.", "no_odd_phrase"),
        ({"name": "Tom", "relation": "friend", "reason": "his daughter's first birthday"},
         "Tom, happy first birthday to your little girl!", "no_odd_phrase"),
        ({"name": "하준", "relation": "아들", "reason": "돌", "language": "ko"},
         "하준아, 첫돌 축하해! 우리 아들 건강하게 자라 줘서 고마워.", "no_odd_phrase"),
        ({"name": "Kate", "relation": "friend", "reason": "her baby's first birthday"},
         "Kate, happy first birthday to your baby! One year of love and laughter.",
         "no_odd_phrase"),
        # Glad of what the request says.
        ({"name": "Tom", "relation": "friend", "reason": "feeling better after surgery"},
         "Tom, I'm so glad you're feeling better.", "no_odd_phrase"),
        ({"name": "Jane", "relation": "colleague", "reason": "welcome to the team"},
         "Welcome to the team, Jane! We're happy to have you join us.", "no_odd_phrase"),
        ({"name": "Tom", "relation": "son", "reason": "coming home for Christmas"},
         "Merry Christmas, Tom! I'm so glad you're home.", "no_odd_phrase"),
        ({"name": "Tom", "relation": "friend", "reason": "returning from deployment"},
         "Tom, so glad you're home safe!", "no_odd_phrase"),
        # A title before the family name of a full name.
        ({"name": "Sarah Kim", "relation": "boss", "reason": "promotion"},
         "Congratulations on your promotion, Ms. Kim!", "right_title"),
        ({"name": "John Smith", "relation": "client", "reason": "thank you"},
         "Dear Mr. Smith, thank you for your business.", "right_title"),
        # The reviewer's judgement calls, narrowed after it (this session).
        ({"name": "Mrs. Lee", "relation": "neighbor", "reason": "thanks"},
         "Ms. Lee, thank you for the cookies!", "right_title"),
        ({"name": "Ms. Adams", "relation": "boss", "reason": "I got the position, thank you"},
         "Ms. Adams, I got the position, and I owe you a lot.", "no_odd_phrase"),
        ({"name": "Aunt Sue", "relation": "aunt", "reason": "thanks for the birthday gift"},
         "Thank you for the gift, Aunt Sue! It'll be lovely to see you next week.", "fits_role"),
        ({"name": "Aunt Sue", "relation": "aunt", "reason": "thanks for the birthday gift"},
         "Thank you for the gift, Aunt Sue! It was great to see you last weekend.", "fits_role"),
        ({"name": "Ms. Park", "relation": "teacher", "reason": "thanks for a great year"},
         "Ms. Park, thank you for a great year. The kids adored your class.", "no_odd_phrase"),
        ({"name": "Jake", "relation": "brother", "reason": "birthday"},
         "Happy birthday, Jake! I'm so glad you had a great year.", "no_odd_phrase"),
        ({"name": "Jake", "relation": "brother", "reason": "birthday"},
         "Happy birthday, Jake! I'll be so happy to see you!", "no_odd_phrase"),
        ({"name": "지수", "relation": "친구", "reason": "응원해 줘서 고마워", "language": "ko"},
         "지수야, 응원 잘 받았어! 고마워.", "no_odd_phrase"),
        ({"name": "준호", "relation": "동생", "reason": "퇴원", "language": "ko"},
         "준호야, 퇴원했다니 다행이야, 걱정 많이 했어.", "no_odd_phrase"),
        ({"name": "Mom", "relation": "mother", "reason": "Mother's Day"},
         "Happy Mother's Day, Mom! I'm so happy to be your daughter.", "no_odd_phrase"),
        ({"relation": "VIP customer", "reason": "thank you"},
         "Thank you for shopping with us! We'd love to treat you to a free coffee.", "fits_role"),
    ],
)  # fmt: skip
def test_a_natural_message_passes(fields: dict[str, str], message: str, check: str) -> None:
    request = _request(**fields)
    assert getattr(quality, check)(request, message)
    failed = [label for label, one in SO_FAR.items() if not one(Case(request, ()), message)]
    assert failed == []


@pytest.mark.parametrize(
    ("fields", "message", "check"),
    [
        ({"name": "Mr. Patel", "relation": "client", "reason": "grand opening of his restaurant"},
         "Mr. Patel, congratulations! We're so happy to have you join us.", "no_odd_phrase"),
        ({"name": "Sarah Kim", "relation": "colleague", "reason": "promotion"},
         "Ms. Sarah, congratulations on your promotion!", "right_title"),
        ({"name": "Chris", "relation": "friend", "reason": "moving into a new home"},
         "Chris, I'm so glad you're home.", "no_odd_phrase"),
        ({"name": "Tom", "relation": "friend", "reason": "get well soon"},
         "Get well soon, Tom. I'm glad you're feeling better.", "no_odd_phrase"),
        ({"name": "준호", "relation": "친구", "reason": "입대", "language": "ko"},
         "준호야, 몸 건강히 잘 다녀와! 입대.", "reason_not_pasted"),
        ({"name": "Mrs. Lee", "relation": "neighbor", "reason": "thanks"},
         "Mr. Lee, thank you for the cookies!", "right_title"),
        ({"name": "Dad", "relation": "father", "reason": "Father's Day"},
         "Happy Father's Day, Dad! The kids love you.", "no_odd_phrase"),
        # "son" inside "season" no longer counts as the reason naming children.
        ({"name": "Mom", "relation": "mother", "reason": "season's greetings"},
         "Season's greetings, Mom! The kids say hi.", "no_odd_phrase"),
        ({"name": "Aunt Sue", "relation": "aunt", "reason": "thanks for the birthday gift"},
         "Thanks for the gift, Aunt Sue! It was so nice to see you.", "fits_role"),
        ({"name": "Aunt Sue", "relation": "aunt", "reason": "thanks for the birthday gift"},
         "Thanks for the gift, Aunt Sue. It was a pleasure to meet you.", "fits_role"),
        ({"name": "Grandma", "relation": "grandmother", "reason": "Easter"},
         "Happy Easter Grandma! I'm so glad you had a great Easter.", "no_odd_phrase"),
        ({"name": "Ben", "relation": "friend", "reason": "housewarming"},
         "Congratulations on the new home, Ben! I'm glad to see you.", "no_odd_phrase"),
        ({"name": "민준", "relation": "아들", "reason": "수능 응원", "language": "ko"},
         "민준아, 수능 잘 봐! 응원 잘 하고 와.", "no_odd_phrase"),
        ({"name": "준호", "relation": "동생", "reason": "퇴원", "language": "ko"},
         "준호야, 퇴원했다니 걱정 많이 했어. 푹 쉬어.", "no_odd_phrase"),
    ],
)  # fmt: skip
def test_the_narrowed_checks_still_refuse(fields: dict[str, str], message: str, check: str) -> None:
    assert not getattr(quality, check)(_request(**fields), message)
