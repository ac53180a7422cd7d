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
        "passed away",
        "condolence",
        "sympathy",
        "sympathies",
        "your loss",
        "funeral",
        "bereave",
        "died",
        "death of",
    ),
    "apology": ("사과", "미안", "죄송", "sorry", "apolog"),
    "lunar_new_year": ("설날", "설 ", "구정", "lunar new year", "seollal"),
    "chuseok": ("추석", "한가위", "chuseok"),
    "christmas": ("크리스마스", "성탄", "christmas", "xmas"),
    "new_year": ("새해", "신년", "new year"),
    "year_end": ("연말", "송년", "year-end", "end of the year", "end of year"),
    "anniversary": ("결혼기념일", "기념일", "anniversary"),
    "birthday": ("생일", "생신", "birthday", "bday"),
    "wedding": ("결혼", "웨딩", "wedding", "getting married", "marriage", "engagement", "약혼"),
    "graduation": ("졸업", "graduat"),
    "admission": ("입학", "starting school", "first day of school", "college acceptance"),
    "exam": ("합격", "시험", "수능", "passed", "exam", "test"),
    "promotion": ("승진", "진급", "promotion", "promoted"),
    "job_change": ("이직", "전직", "job change", "switching jobs"),
    "new_job": ("취업", "입사", "첫 출근", "new job", "first job", "hired", "job offer"),
    "retirement": ("퇴직", "은퇴", "정년", "retire"),
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
    "baby": ("출산", "득남", "득녀", "돌잔치", "new baby", "baby", "birth of"),
    "enlistment": ("입대", "군대", "enlist", "military service"),
    "discharge": ("전역", "제대", "discharge"),
    "housewarming": ("집들이", "이사", "새집", "housewarming", "new home", "new house", "moving"),
    "farewell": ("송별", "작별", "떠나", "farewell", "goodbye", "leaving", "moving away"),
    "valentine": ("발렌타인", "밸런타인", "화이트데이", "valentine"),
    "cheer": ("응원", "힘내", "격려", "cheer", "good luck", "encourag"),
    "thanks": ("감사", "고마", "thank", "gratitude", "appreciat"),
    "congrats": ("축하", "congrat"),
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
    "promotion": ("new_job", "job_change"),
    "new_job": ("job_change", "promotion"),
    "job_change": ("new_job", "promotion"),
    "retirement": ("farewell", "thanks"),
    "parents_day": ("mothers_day", "fathers_day", "thanks"),
    "mothers_day": ("parents_day", "fathers_day"),
    "fathers_day": ("parents_day", "mothers_day"),
    "teachers_day": ("thanks",),
    "farewell": ("thanks", "retirement"),
    "enlistment": ("cheer",),
    "discharge": ("congrats",),
    "cheer": ("get_well", "exam"),
    "get_well": ("condolences",),
    "condolences": ("get_well",),
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
}
SEASONAL = frozenset({"christmas", "new_year", "lunar_new_year", "year_end", "chuseok"})


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split()) + " "


@lru_cache(maxsize=1024)
def classify(reason: str | None) -> str:
    """The occasion a reason names ("설날" → lunar_new_year), or "other" (also for none)."""
    text = _normal(reason or "")
    if text.startswith(("thank", "감사", "고마")) or text.rstrip().endswith(("감사", "감사 인사")):
        return "thanks"  # "thanks for the birthday gift", "졸업 감사" are thank-yous
    for occasion, words in OCCASIONS.items():
        if any(word in text for word in words):
            return occasion
    return "other"


def is_calm(reason: str | None) -> bool:
    """Whether the reason is a hard occasion, one that gets a calm message."""
    return classify(reason) in CALM


_SEASON_PATTERNS = {
    season: re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
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
