"""What makes a message one people would send: the checks the embedded model's best-of-n
scores its candidates with while serving (text/prompts.py, providers/local.py), and that
`messagebot eval` reports on (evaluation.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..request import MessageRequest
from . import korean, occasions
from .cleanup import is_preamble
from .examples import bank
from .sentences import ENDERS, ends_sentence


@dataclass(frozen=True)
class Case:
    request: MessageRequest
    keywords: tuple[str, ...] = ()  # any of these names the occasion


_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_LATIN = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")
_PLACEHOLDER = re.compile(
    r"[\[<{]\s*[^\]>}]{0,20}(?:name|이름|signature)[^\]>}]{0,10}[\]>}]", re.IGNORECASE
)
_TITLES = {"mr", "mrs", "ms", "dr", "miss", "sir"}
_QUOTES = "\"'“”‘’「」『』"


def fits(request: MessageRequest, message: str) -> bool:
    return 0 < len(message) <= request.max_length


def _squeeze(text: str) -> str:
    return re.sub(r"[\s.]", "", text).lower()  # "Mr. Park" matches "Mr.Park"


def names_the_person(request: MessageRequest, message: str) -> bool:
    if not request.name:
        return True
    if request.draft and _squeeze(request.name) not in _squeeze(request.draft):
        return True  # a rewrite calls them what the draft does (keeps_names)
    # A name may be shortened: "박 부장님" → "부장님", "Mr. Park" → "Park".
    parts = {_squeeze(part) for part in request.name.split()} - _TITLES
    candidates = {_squeeze(request.name)} | {part for part in parts if len(part) >= 2}
    text = _squeeze(message)
    return any(candidate in text for candidate in candidates)


def right_language(request: MessageRequest, message: str) -> bool:
    letters = _LETTER.findall(message)
    if not letters:
        return False
    language = (request.language or "en").split("-")[0]
    if language == "ko":
        return len(_HANGUL.findall(message)) / len(letters) >= 0.6
    if language == "ja":
        return bool(_KANA.search(message))
    return len(_LATIN.findall(message)) / len(letters) >= 0.9


def clean(request: MessageRequest, message: str) -> bool:
    text = message.strip()
    return bool(text) and not (
        is_preamble(text.split("\n", 1)[0])
        or _PLACEHOLDER.search(text)
        or (text[0] in _QUOTES and text[-1] in _QUOTES)
        or "**" in text
        or text.startswith("#")
    )


def enough_words(request: MessageRequest, message: str) -> bool:
    words = message.split()
    if (request.language or "en").startswith(("ko", "ja", "zh")):
        return len(words) >= 2 and len(message) >= 8
    return len(words) >= 4


# What a message must also get right to be sent (issue 17). The checks above are mechanical;
# these look at what a tiny model gets wrong most.
_TRAILING = re.compile(r"[\s\"'”’」』)\]\U0001F000-\U0001FFFF\u2600-\u27BF\uFE0F\u200D♥♡^]+$")
_LABELS = re.compile(
    r"\b(?:To|Occasion|Tone|Language|Message|Speech|Address|Draft|Rewrite):", re.IGNORECASE
)


def finished(request: MessageRequest, message: str) -> bool:
    """It ends on a finished sentence, not "…for the next 10" or "…and lots of"."""
    text = _TRAILING.sub("", message)
    if not text:
        return False
    if text[-1] in ENDERS:
        return ends_sentence(text, len(text))  # not "…Mr."
    if _language(request) == "ko":
        # A Korean sentence may end without a full stop: "…늘 건강하세요", "사랑해".
        levels = korean.sentence_levels(text.rsplit(" ", 1)[-1])
        return bool(levels) and levels[-1] != "neutral"
    return False


def _language(request: MessageRequest) -> str:
    return (request.language or "en").split("-")[0]


def _letters(text: str) -> str:
    return "".join(_LETTER.findall(text)).lower()


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text).lower().replace("’", "'")


def names_the_occasion(case: Case, message: str) -> bool:
    reason = case.request.reason
    if reason is None:
        return True  # a rewrite of a draft with no reason: the draft says what it is about
    keywords = case.keywords or occasions.OCCASIONS.get(occasions.classify(reason), (reason,))
    draft = case.request.draft
    if draft and not any(_squeezed(keyword) in _squeezed(draft) for keyword in keywords):
        return True  # the rewrite keeps the draft's words, and the draft had none of these
    text = _squeezed(message)
    return any(_squeezed(keyword) in text for keyword in keywords)


# A name in a draft: a capitalised word that does not start a sentence ("Sorry, Jordan"), or
# comes after a title ("Mrs. Lee"); a Korean name before 씨 or 님 ("수진 씨").
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?\n])\W*$")
_AFTER_TITLE = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Miss)\.?\s+$")
_KOREAN_NAME = re.compile(r"([\uac00-\ud7a3]{2,4}) ?(?:씨|님)")
_NOT_NAMES = frozenset(
    {"I", "Mom", "Dad", "Mum", "God", "Mr", "Mrs", "Ms", "Dr", "Miss"}
    | {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}
    | {"Happy", "Merry", "Dear", "Hi", "Hey", "Hello", "Thanks", "Thank", "Sorry"}
)
_KOREAN_TITLES = frozenset({"부장", "과장", "팀장", "차장", "대리", "사장", "선생", "고객", "교수"})


def draft_names(draft: str) -> set[str]:
    """The names a draft mentions, as far as a few patterns can tell."""
    names = set()
    for match in _CAPITALISED.finditer(draft):
        before = draft[: match.start()]
        if _AFTER_TITLE.search(before) or not _SENTENCE_START.search(before):
            names.add(match.group(0))
    names |= {m.group(1) for m in _KOREAN_NAME.finditer(draft)}
    return names - _NOT_NAMES - _KOREAN_TITLES


def keeps_names(request: MessageRequest, message: str) -> bool:
    """A rewrite keeps every name its draft has (and the recipient's, if the draft has it),
    and its numbers: times, dates and amounts are facts."""
    if not request.draft:
        return True
    names = draft_names(request.draft) | set(re.findall(r"\d+", request.draft))
    if request.name and _squeeze(request.name) in _squeeze(request.draft):
        names.add(request.name)
    text = _squeeze(message)
    return all(_squeeze(name) in text for name in names)


# Hard occasions (occasions.CALM) get a calm message: no exclamation marks, no emoji or
# emoticons, nothing festive; an apology apologises (docs/api.md, "Hard occasions").
_SORRY = re.compile(r"sorry|apolog|미안|죄송|용서", re.IGNORECASE)


def calm(request: MessageRequest, message: str, so_far: bool = False) -> bool:
    """`so_far`: the start of a message, which may apologise later."""
    occasion = occasions.classify(request.reason)
    if occasion not in occasions.CALM:
        return True
    if occasions.LOUD.search(message):
        return False
    text = message.lower()
    if occasion != "condolences" and any(w in text for w in occasions.OCCASIONS["condolences"]):
        return False  # "sorry for your loss" is no apology for a missed party
    return so_far or occasion != "apology" or bool(_SORRY.search(message))


def no_other_season(request: MessageRequest, message: str) -> bool:
    """It drags in no other season or holiday ("새해에 또 만나자" for a birthday)."""
    return not occasions.foreign_seasons(occasions.classify(request.reason), message)


# A rewrite's manner that names a speech level ("존댓말로", "반말로") sets it.
_ASKS_POLITE = re.compile(r"존댓말|존대|높임|공손|정중|격식|polite|formal", re.IGNORECASE)
_ASKS_BANMAL = re.compile(r"반말|편하게|casual", re.IGNORECASE)


def korean_level(request: MessageRequest, message: str) -> bool:
    if _language(request) != "ko":
        return True
    if request.draft and request.manner:
        levels = korean.sentence_levels(message)
        if _ASKS_BANMAL.search(request.manner):
            return "polite" not in levels
        if _ASKS_POLITE.search(request.manner):
            return "banmal" not in levels and "polite" in levels
    if request.relation is None:
        return True
    return korean.level_fits(message, request.name, request.relation, request.manner)


def korean_address(request: MessageRequest, message: str) -> bool:
    if _language(request) != "ko" or request.relation is None:
        return True
    return korean.address_fits(message, request.name, request.relation, request.manner)


def echoes_nothing(request: MessageRequest, message: str) -> bool:
    """None of the prompt comes back: its labels, the relation in its brackets ("(친구)"), a
    gloss ("(새해 복 많이 받으세요)"), the speech level's name, or another person's example."""
    if _LABELS.search(message) or f"({request.relation})" in message:
        return False
    if request.draft and _letters(message) == _letters(request.draft):
        return False  # the draft back, not rewritten ("." added or not)
    if re.search(r"\((?:[^)]*(?:세요|받아|축하|Lunar New Year|harvest holiday)[^)]*)\)", message):
        return False
    if "반말" in message or "존댓말" in message:
        return False
    relation = (request.relation or "").strip()
    if " " in relation and relation not in (request.name or "") and f"{relation}," in message:
        return False  # "최 과장님, 거래처 담당자, 감사 드립니다."
    # A bank example copied whole, when it was written for someone else ("Mom" is everyone's).
    text = message.strip()
    return not any(
        text == example.message and example.name != request.name
        for examples in bank().values()
        for example in examples
    )


CRITERIA: dict[str, Callable[[Case, str], bool]] = {
    "fits max_length": lambda c, m: fits(c.request, m),
    "names the person": lambda c, m: names_the_person(c.request, m),
    "right language": lambda c, m: right_language(c.request, m),
    "no preamble/quotes/placeholder": lambda c, m: clean(c.request, m),
    "at least a few words": lambda c, m: enough_words(c.request, m),
    "ends on a finished sentence": lambda c, m: finished(c.request, m),
    "names the occasion": names_the_occasion,
    "no other season/holiday": lambda c, m: no_other_season(c.request, m),
    "Korean speech level fits": lambda c, m: korean_level(c.request, m),
    "Korean address fits": lambda c, m: korean_address(c.request, m),
    "echoes none of the prompt": lambda c, m: echoes_nothing(c.request, m),
    "keeps the draft's names and numbers": lambda c, m: keeps_names(c.request, m),
    "calm for a hard occasion": lambda c, m: calm(c.request, m),
}


# What the start of a message must already get right, judged as each sentence ends (the
# embedded model writes a failing sentence again, providers/local.py); the rest of CRITERIA
# (the person, the occasion, a finished ending…) is judged on the whole message.
SO_FAR: dict[str, Callable[[Case, str], bool]] = {
    **{
        name: CRITERIA[name]
        for name in (
            "right language",
            "no preamble/quotes/placeholder",
            "no other season/holiday",
            "Korean speech level fits",
            "echoes none of the prompt",
        )
    },
    "calm so far": lambda c, m: calm(c.request, m, so_far=True),
}


def score(
    request: MessageRequest,
    language: str,
    criteria: dict[str, Callable[[Case, str], bool]] = CRITERIA,
) -> Callable[[str], float]:
    """The share of `criteria` a message for `request`, written in `language`, passes (1.0:
    all)."""
    case = Case(request.model_copy(update={"language": language}))

    def check(message: str) -> float:
        text = message.strip()
        return sum(test(case, text) for test in criteria.values()) / len(criteria)

    return check
