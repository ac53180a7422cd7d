"""Occasions: which one a request's free-text reason names, and which words belong to it.

Used to pick few-shot examples (same or neighbouring occasion) and by the evaluation (does the
message name its occasion, does it drag in another season or holiday).
"""

from __future__ import annotations

import re
from functools import lru_cache

# occasion → words in a reason that name it (lower case; Korean and English).
# The order matters: the first occasion with a word in the reason wins, so the hard occasions
# come first ("sorry I missed your birthday party" is an apology, not a birthday).
OCCASIONS: dict[str, tuple[str, ...]] = {
    "condolences": (
        "부고",
        "조의",
        "조문",
        "애도",
        "명복",
        "별세",
        "돌아가",
        "장례",
        "상을 당",
        "모친상",
        "부친상",
        "빙모상",
        "빙부상",
        "passed away",
        "condolence",
        "sympathy",
        "sympathies",
        "your loss",
        "loss of",
        "funeral",
        "bereave",
        "died",
        "death of",
    ),
    "apology": (
        "사과",
        "미안",
        "죄송",
        "못 챙겨",
        "못 가서",
        "sorry",
        "apolog",
        "missed your",
        "forgot your",
        "forgot our",
    ),
    # Other cultures' days (issue 26): before the generic words ("holiday", "new year").
    "diwali": ("diwali", "deepavali", "디왈리"),
    "eid": ("eid ", "eid al", "eid-al", "eid mubarak", "ramadan", "라마단", " 이드 "),
    "hanukkah": ("hanukkah", "chanukah", "hanukah", "하누카"),
    "easter": ("easter", "부활절"),
    "lunar_new_year": ("설날", "설 ", "구정", "lunar new year", "seollal"),
    "chuseok": ("추석", "한가위", "chuseok"),
    "christmas": ("크리스마스", "성탄", "christmas", "xmas"),
    "new_year": ("새해", "신년", "new year"),
    "year_end": ("연말", "송년", "year-end", "end of the year", "end of year"),
    # A company's founding day is no wedding anniversary; a baby's first birthday and a 70th
    # are birthdays of their own, with their own words (issue 26).
    "founding": (
        "창립",
        "창사",
        "company anniversary",
        "company's",
        "firm's",
        "years in business",
        "founding",
    ),
    "anniversary": ("결혼기념일", "기념일", "anniversary"),
    "first_birthday": (
        "돌잔치",
        "첫돌",
        "돌 ",
        "돌날",
        "first birthday",
        "turning one",
        "1st birthday",
    ),
    "hundred_days": ("백일", "100 days", "hundred days", "100th day"),
    "big_birthday": (
        "환갑",
        "회갑",
        "칠순",
        "고희",
        "팔순",
        "구순",
        "60th",
        "70th",
        "80th",
        "90th",
        "sixtieth",
        "seventieth",
        "eightieth",
    ),
    "birthday": ("생일", "생신", "birthday", "bday"),
    "wedding": ("결혼", "웨딩", "wedding", "getting married", "marriage", "engagement", "약혼"),
    # A child leaving home for college: no farewell to a colleague, no first day at school.
    "send_off": (
        "leaving for college",
        "off to college",
        "leaving for university",
        "off to university",
        "going away to college",
        "leaving home",
        "집 떠나",
        "집을 떠나",
        "집 떠남",
        "집을 떠남",
        "기숙사",
        "대학 가느라",
    ),
    "graduation": ("졸업", "graduat"),
    "admission": ("입학", "starting school", "first day of school", "college acceptance"),
    "exam": ("합격", "시험", "수능", "passed", "exam", "test"),
    "promotion": ("승진", "진급", "promotion", "promoted"),
    "job_change": (
        "이직",
        "전직",
        "job change",
        "switching jobs",
        "new job at",
        "leaving for a new job",
    ),
    "new_job": ("취업", "입사", "첫 출근", "new job", "first job", "hired", "job offer"),
    "opening": (
        "개업",
        "개원",
        "오픈",
        "창업",
        "grand opening",
        "opening of",
        "new business",
        "new shop",
        "new store",
        "new restaurant",
        "new cafe",
        "new café",
    ),
    "retirement": ("퇴직", "은퇴", "정년", "retire"),
    # Out of hospital, well again: a glad message, not the calm one of an illness.
    "recovery": (
        "퇴원",
        "완쾌",
        "home from the hospital",
        "out of the hospital",
        "out of hospital",
        "discharged from",
        "recovered",
        "back on your feet",
        "back on his feet",
        "back on her feet",
    ),
    "get_well": (
        "쾌유",
        "회복",
        "병문안",
        "아프",
        "수술",
        "get well",
        "recover",
        "surgery",
        "sick",
        "illness",
        "hospital",
        "입원",
        "투병",
    ),
    "parents_day": ("어버이날", "parents' day", "parents day"),
    "mothers_day": ("mother's day", "mothers day", "mother’s day"),
    "fathers_day": ("father's day", "fathers day", "father’s day"),
    "teachers_day": (
        "스승의 날",
        "스승의날",
        "teacher's day",
        "teachers' day",
        "teacher appreciation",
    ),
    "baby": ("출산", "득남", "득녀", "new baby", "baby", "birth of"),
    "discharge": (
        "전역",
        "제대",
        "discharge",
        "back from the army",
        "home from the army",
        "after military service",
        "finished military service",
    ),
    "enlistment": ("입대", "군대", "enlist", "military service", "the army"),
    "housewarming": ("집들이", "이사", "새집", "housewarming", "new home", "new house", "moving"),
    "farewell": ("송별", "작별", "떠나", "farewell", "goodbye", "leaving", "moving away"),
    "valentine": ("발렌타인", "밸런타인", "화이트데이", "valentine"),
    "cheer": ("응원", "힘내", "격려", "cheer", "good luck", "encourag"),
    "thanks": ("감사", "고마", "thank", "gratitude", "appreciat"),
    "congrats": ("축하", "congrat"),
}
# A thank-you for a letter of recommendation: a thanks with words of its own.
RECOMMENDATION = ("추천서", "추천해", "recommendation", "reference letter", "letter of reference")
# Good luck before an exam (수능 응원, "good luck on the exam"): a cheer, not a congratulation.
_EXAM = ("수능", "시험", "exam", "test", "sat ")
_PASSED = ("합격", "passed", "pass ")

# What kind of occasion each is (issue 26): an occasion the bank barely knows borrows examples
# of its own kind, never another kind's, and a reason that names no occasion gets its kind's
# plain one ("thanks", "congrats"…) rather than "other".
KINDS: dict[str, str] = {
    "condolences": "loss",
    "get_well": "care",
    "recovery": "care",
    "apology": "apology",
    "thanks": "thanks",
    "recommendation": "thanks",
    "teachers_day": "thanks",
    "parents_day": "thanks",
    "mothers_day": "thanks",
    "fathers_day": "thanks",
    "cheer": "cheer",
    "exam_cheer": "cheer",
    "enlistment": "cheer",
    "send_off": "cheer",
    "farewell": "farewell",
    "retirement": "milestone",
    "birthday": "milestone",
    "first_birthday": "milestone",
    "hundred_days": "milestone",
    "big_birthday": "milestone",
    "anniversary": "milestone",
    "founding": "milestone",
    "graduation": "milestone",
    "wedding": "celebration",
    "admission": "celebration",
    "exam": "celebration",
    "promotion": "celebration",
    "new_job": "celebration",
    "job_change": "celebration",
    "opening": "celebration",
    "baby": "celebration",
    "housewarming": "celebration",
    "discharge": "celebration",
    "congrats": "celebration",
    "valentine": "love",
    "lunar_new_year": "season",
    "new_year": "season",
    "year_end": "season",
    "chuseok": "season",
    "christmas": "season",
    "diwali": "season",
    "eid": "season",
    "hanukkah": "season",
    "easter": "season",
    "other": "other",
}
# Each kind's plain occasion: its examples carry no occasion's own words.
PLAIN = {
    "loss": "condolences",
    "care": "get_well",
    "apology": "apology",
    "thanks": "thanks",
    "cheer": "cheer",
    "celebration": "congrats",
    "milestone": "congrats",
}
# Words that tell a reason's kind when it names no occasion we know ("lost her dog",
# "job interview", "won the award").
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "loss": ("잃", "여의", "추모", "lost ", "passing", "grief", "grieving", "mourning", "memorial"),
    "care": (
        "다쳤",
        "다친",
        "부상",
        "injur",
        "chemo",
        "항암",
        "치료",
        "treatment",
        "broke her",
        "broke his",
    ),
    "apology": ("잘못", "실수", "forgive", "my fault", "mistake", "forgot", "missed"),
    "cheer": (
        "면접",
        "발표",
        "대회",
        "경기",
        "오디션",
        "파이팅",
        "화이팅",
        "interview",
        "presentation",
        "competition",
        "tournament",
        "audition",
        "big day",
        "race",
        "match",
    ),
    "celebration": ("수상", "우승", "당선", "award", "won ", " win", "prize", "achievement"),
}

# Hard occasions: loss, illness and apologies get a calm message (docs/api.md, "Hard
# occasions"): no exclamation marks, no emoji, nothing happy or congratulatory.
CALM = frozenset({"condolences", "get_well", "apology"})
# What a calm message has none of: exclamation marks, emoji and emoticons, festive words.
LOUD = re.compile(
    r"[!！\U0001F000-\U0001FFFF\u2600-\u27BF♥♡]|\^\^|ㅋㅋ|ㅎㅎ|\bhappy\b|congrat|축하|축복",
    re.IGNORECASE,
)

# Occasions close enough that one's examples help another.
NEIGHBOURS: dict[str, tuple[str, ...]] = {
    "lunar_new_year": ("new_year",),
    "new_year": ("lunar_new_year", "year_end"),
    "year_end": ("new_year", "thanks"),
    "christmas": ("year_end",),
    "birthday": ("anniversary",),
    "anniversary": ("birthday", "valentine"),
    "wedding": ("anniversary",),
    "graduation": ("admission", "exam"),
    "admission": ("graduation", "exam"),
    "exam": ("admission", "graduation"),
    # A promotion is in the same company: a job change's "새 회사로 이직 축하해요!" was copied
    # into 12 promotion messages of the hand reads (runs C–N), none sendable.
    "new_job": ("job_change",),
    "job_change": ("new_job",),
    "retirement": ("farewell", "thanks"),
    "parents_day": ("mothers_day", "fathers_day", "thanks"),
    "mothers_day": ("parents_day", "fathers_day"),
    "fathers_day": ("parents_day", "mothers_day"),
    "teachers_day": ("thanks",),
    "farewell": ("thanks", "retirement"),
    "enlistment": ("cheer",),
    "discharge": ("congrats",),
    # A calm occasion borrows no other's examples: a get-well example says "얼른 나아" to the
    # bereaved, a condolence one "sorry for your loss" to the sick (issue 26).
    "cheer": ("exam_cheer",),
    "exam_cheer": ("cheer",),
    "send_off": ("cheer",),
    "get_well": ("recovery",),
    "recovery": ("get_well",),
    "first_birthday": ("hundred_days", "baby"),
    "hundred_days": ("first_birthday", "baby"),
    "big_birthday": ("birthday",),
    "founding": ("opening", "congrats"),
    "opening": ("founding", "congrats"),
    "recommendation": ("thanks",),
    "thanks": ("teachers_day",),
    "valentine": ("anniversary",),
    "housewarming": ("congrats",),
    "baby": ("congrats",),
    "congrats": ("promotion", "new_job"),
}

# Seasons and holidays: words that have no place in a message for another occasion.
SEASONS: dict[str, tuple[str, ...]] = {
    "christmas": ("christmas", "크리스마스", "성탄", "holiday season", "holidays", "산타", "santa"),
    "new_year": ("new year", "새해", "신년", "연말", "송년", "year-end", "설날", "새해 복"),
    "chuseok": ("chuseok", "추석", "한가위", "명절", "harvest"),
    "halloween": ("halloween", "핼러윈", "할로윈"),
    "thanksgiving": ("thanksgiving",),
    "easter": ("easter", "부활절"),
    "diwali": ("diwali", "deepavali", "디왈리"),
    "eid": ("eid", "ramadan", "라마단"),
    "hanukkah": ("hanukkah", "chanukah", "하누카", "menorah"),
    "holiday": ("holiday", "vacation", "휴가", "연휴"),
}
# Which of those each occasion may name.
SEASONS_ALLOWED: dict[str, tuple[str, ...]] = {
    "christmas": ("christmas", "new_year", "holiday"),
    "new_year": ("new_year", "holiday"),
    "lunar_new_year": ("new_year", "chuseok", "holiday"),  # 설 is a 명절 too
    "year_end": ("new_year", "christmas", "holiday"),
    "chuseok": ("chuseok", "holiday"),
    "retirement": ("holiday",),
    "enlistment": ("holiday",),  # 휴가: leave from the army
    "diwali": ("diwali", "holiday"),
    "eid": ("eid", "holiday"),
    "hanukkah": ("hanukkah", "holiday"),
    "easter": ("easter", "holiday"),
}
SEASONAL = frozenset(
    {"christmas", "new_year", "lunar_new_year", "year_end", "chuseok"}
    | {"diwali", "eid", "hanukkah", "easter"}
)


def _normal(text: str) -> str:
    return " " + " ".join(text.lower().replace("’", "'").split()) + " "


@lru_cache(maxsize=1024)
def classify(reason: str | None, by_kind: bool = True) -> str:
    """The occasion a reason names ("설날" → lunar_new_year), or "other" (also for none).
    With `by_kind`, a reason that names none but shows its kind gets the kind's plain one."""
    text = _normal(reason or "")
    if any(word in text for word in RECOMMENDATION):
        return "recommendation"  # "추천서 감사": a thank-you for a letter
    thanked = text.rstrip().endswith(("감사", "감사 인사"))
    if text.startswith((" thank", " 감사", " 고마")) or thanked:
        return "thanks"  # "thanks for the birthday gift", "졸업 감사" are thank-yous
    exam = any(word in text for word in _EXAM) and not any(word in text for word in _PASSED)
    if exam and ("수능" in text or any(word in text for word in OCCASIONS["cheer"])):
        return "exam_cheer"  # "수능 응원", "good luck on the exam": 응원 is not 축하
    for occasion, words in OCCASIONS.items():
        if any(word in text for word in words):
            return occasion
    for kind, words in KIND_WORDS.items() if by_kind else ():
        if any(word in text for word in words):
            return PLAIN[kind]  # "lost her dog" → condolences' plain words, not "other"
    return "other"


# Words a message uses to name an occasion, beside the ones a reason uses (OCCASIONS): nobody
# writes "leaving for college" or "수능 응원" into the message itself (issue 26).
_MESSAGE_WORDS: dict[str, tuple[str, ...]] = {
    "exam_cheer": ("수능", "시험", "exam", "test", "응원", "luck", "잘 봐", "힘내", "got this"),
    "recommendation": (*RECOMMENDATION, "추천", "감사", "thank", "letter"),
    "send_off": ("college", "university", "campus", "대학", "기숙사", "잘 지내", "new chapter"),
    "first_birthday": ("birthday", "돌", "turning one"),
    "big_birthday": ("birthday", "생신"),
    "founding": ("anniversary", "주년", "years"),
    "opening": ("opening", "open", "번창"),
    "recovery": ("home", "회복", "건강", "better", "recover"),
    "discharge": ("welcome back", "welcome home", "고생", "수고"),
}


def message_words(occasion: str) -> tuple[str, ...]:
    """Words that name `occasion` in a message (for the evaluation's "names the occasion")."""
    return OCCASIONS.get(occasion, ()) + _MESSAGE_WORDS.get(occasion, ())


def kind(occasion: str) -> str:
    """The kind of an occasion: loss, care, apology, thanks, cheer, farewell, milestone,
    celebration, love, season or other."""
    return KINDS.get(occasion, "other")


def is_calm(reason: str | None) -> bool:
    """Whether the reason (or a draft) is a hard occasion, one that gets a calm message: by an
    occasion's own words, not a kind's ("I missed you" in a draft is no apology)."""
    return classify(reason, by_kind=False) in CALM


def _word(word: str) -> str:
    """A word's pattern: a Latin word starts at a word boundary ("eid" is not in "Heidi"), and a
    short one ends at one too."""
    if not word.isascii():
        return re.escape(word)
    return r"\b" + re.escape(word) + (r"\b" if len(word) <= 3 else "")


_SEASON_PATTERNS = {
    season: re.compile("|".join(_word(w) for w in words), re.IGNORECASE)
    for season, words in SEASONS.items()
}


def foreign_seasons(occasion: str, message: str) -> list[str]:
    """The seasons or holidays a message for `occasion` names but should not."""
    allowed = SEASONS_ALLOWED.get(occasion, ())
    return [
        season
        for season, pattern in _SEASON_PATTERNS.items()
        if season not in allowed and pattern.search(message)
    ]
