"""What makes a message one people would send: the checks the embedded model's best-of-n
scores its candidates with while serving (text/prompts.py, providers/local.py), and that
`messagebot eval` reports on (evaluation.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher

from ..request import MessageRequest
from . import korean, occasions
from .cleanup import is_preamble
from .examples import PARENT_SELF as _PARENT_SELF
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


_KIN_NAMES = {
    "parent": {"mom", "mum", "mother", "dad", "father"},
    "grandparent": {"grandma", "grandpa", "nana", "granny", "grandmother", "grandfather"},
}


def names_the_person(request: MessageRequest, message: str) -> bool:
    if not request.name:
        return True
    if request.draft and _squeeze(request.name) not in _squeeze(request.draft):
        return True  # a rewrite calls them what the draft does (keeps_names)
    # A name may be shortened: "박 부장님" → "부장님", "Mr. Park" → "Park".
    parts = {_squeeze(part) for part in request.name.split()} - _TITLES
    candidates = {_squeeze(request.name)} | {part for part in parts if len(part) >= 2}
    candidates.add(_squeeze(korean.given_name(request.name)))  # 이서연 → "서연아"
    if (request.language or "").startswith("ko") and request.relation:
        # A Korean calls an older sister "언니", not "은지": the address from the relation,
        # and its title alone ("부장님", "선배님" for 박민수 부장님, 수아 선배님).
        address = korean.address(request.name, request.relation).address
        candidates.add(_squeeze(address))
        if address.endswith("님") and " " in address:
            candidates.add(_squeeze(address.rsplit(" ", 1)[1]))
    elif request.relation:
        # "Happy birthday, Mom!" to a mother named Sarah.
        candidates |= _KIN_NAMES.get(korean.relation_class(request.relation)[0], set())
    candidates.discard("")
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


# Korean thanks for something ("졸업 감사", "추천서 감사", "생일 선물 감사"): the thing is named
# too. "이지은 선생님, 감사합니다." for 졸업 감사 thanks for nothing in particular: the hand reads
# of runs C–P refused every such message (63 of 63).
_THANKS_FOR = re.compile(r"(.+?)\s*(?:에\s*)?(?:감사|고마)\S*")


def thanked_for(reason: str) -> tuple[str, ...]:
    """What a Korean reason thanks for, as the words' first two syllables (추천서 → 추천)."""
    match = _THANKS_FOR.fullmatch(reason.strip())
    if match is None:
        return ()
    words = match.group(1).split()
    return tuple(word[:2] for word in words if len(word) >= 2 and not word.isascii())


def names_the_occasion(case: Case, message: str) -> bool:
    reason = case.request.reason
    if reason is None:
        return True  # a rewrite of a draft with no reason: the draft says what it is about
    keywords = case.keywords or occasions.message_words(occasions.classify(reason)) or (reason,)
    draft = case.request.draft
    if draft and not any(_squeezed(keyword) in _squeezed(draft) for keyword in keywords):
        return True  # the rewrite keeps the draft's words, and the draft had none of these
    text = _squeezed(message)
    if not any(_squeezed(keyword) in text for keyword in keywords):
        return False
    thing = thanked_for(reason) if _language(case.request) == "ko" else ()
    return not thing or any(word in text for word in thing)


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
_SORRY = re.compile(r"sorry|apolog|미안|죄송|용서|사과드|사과할|사과하", re.IGNORECASE)


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


def no_address_slip(request: MessageRequest, message: str) -> bool:
    """No form of address that is wrong wherever it stands (korean.address_slips): judged on
    the start of a message too, where korean_address (which wants the address present) is not."""
    if _language(request) != "ko" or request.relation is None:
        return True
    return not korean.address_slips(message, request.name, request.relation, request.manner)


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
    if re.search(r"\bmy\s*[가-힣]", message, re.IGNORECASE):
        return False  # "my 고객님": the English prompt's "To: my 고객님" copied
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


# Issue 26: checks of sense, not only of keywords. A base model copies its nearest examples,
# and with them their occasion ("Happy birthday" on an apology for a missed party), their
# relation ("it was a pleasure working with you" to a son) or the request's own label ("오늘
# 하루 아버님 부고 위로").

# Words that name an occasion in a message ("결혼" alone is also in "결혼기념일").
MARKERS: dict[str, tuple[str, ...]] = {
    "birthday": ("birthday", "생일", "생신"),
    "first_birthday": ("first birthday", "돌잔치", "첫돌", "돌 축하"),
    "hundred_days": ("백일", "100 days"),
    "big_birthday": ("환갑", "회갑", "칠순", "고희", "팔순", "구순"),
    "wedding": ("wedding", "결혼 축하", "결혼을 축하", "결혼 진심으로"),
    "anniversary": ("anniversary", "결혼기념일"),
    "graduation": ("graduat", "졸업"),
    "admission": ("입학", "first day of school"),
    "exam": ("합격", "passing your", "passed your", "on passing"),
    "promotion": ("promotion", "promoted", "승진"),
    "new_job": ("new job", "first job", "취업", "첫 출근"),
    "job_change": ("이직", "새 회사", "새 직장", "new company"),
    "retirement": ("retire", "은퇴", "퇴직"),
    "opening": ("grand opening", "개업", "번창"),
    "founding": ("창립", "founding"),
    "baby": ("new baby", "출산", "득남", "득녀"),
    "housewarming": ("new home", "housewarming", "집들이", "새집"),
    "discharge": ("전역", "제대 축하", "제대를", "제대했"),  # not "제대로"
    "enlistment": ("입대",),
    "recovery": ("퇴원",),
    "valentine": ("valentine", "발렌타인", "밸런타인"),
    "mothers_day": ("mother's day",),
    "fathers_day": ("father's day",),
    "parents_day": ("어버이날", "parents' day"),
    "teachers_day": ("teacher's day", "스승의 날"),
    "condolences": ("your loss", "condolence", "명복", "애도", "passed away", "부고"),
    "get_well": ("get well", "쾌유", "speedy recovery", "얼른 나아", "빨리 나아"),
}
# Occasions whose messages name another's words as a matter of course.
ALONGSIDE: dict[str, tuple[str, ...]] = {
    "first_birthday": ("birthday", "baby", "hundred_days"),
    "hundred_days": ("baby", "first_birthday"),
    "big_birthday": ("birthday",),
    "anniversary": ("wedding",),
    "wedding": ("anniversary",),
    "founding": ("anniversary",),
    "send_off": ("admission", "graduation"),
    "farewell": ("retirement", "new_job", "job_change"),
    "job_change": ("farewell", "new_job"),
    "retirement": ("farewell",),
    "get_well": ("recovery",),
    "recovery": ("get_well",),
    "discharge": ("enlistment",),
    "recommendation": ("exam", "new_job", "admission", "job_change"),
    "parents_day": ("mothers_day", "fathers_day"),
}
_CONGRATS = re.compile(r"축하|congrat", re.IGNORECASE)
# Thanks on a loss: "thank you for your help" to the bereaved is the wrong example copied.
_THANKS = re.compile(r"thank|고마|고맙|감사", re.IGNORECASE)


def _said(words: tuple[str, ...], text: str) -> bool:
    return any(word in text for word in words)


def no_other_occasion(request: MessageRequest, message: str) -> bool:
    """It names no other occasion than its own: no "Happy birthday" on a farewell, no 축하 on
    a 응원 or a 위로, no thanks to the bereaved. An occasion the reason itself names is fine
    ("sorry I missed your birthday": whether it apologises is `apologises`)."""
    if request.reason is None:
        return True
    occasion = occasions.classify(request.reason)
    reason = _squeezed(request.reason)
    text = message.lower().replace("’", "'")
    allowed = {occasion, *occasions.NEIGHBOURS.get(occasion, ()), *ALONGSIDE.get(occasion, ())}
    allowed |= {other for other, near in occasions.NEIGHBOURS.items() if occasion in near}
    for other, words in MARKERS.items():
        if other in allowed or not _said(words, text):
            continue
        if any(_squeezed(word) in reason for word in words + occasions.OCCASIONS.get(other, ())):
            continue  # the reason names it too
        return False
    kind = occasions.kind(occasion)
    # 응원 is not 축하; a loss, an illness, an apology are not either.
    unglad = occasion in occasions.CALM or (kind == "cheer" and occasion != "send_off")
    if unglad and _CONGRATS.search(message) and not _CONGRATS.search(request.reason):
        return False
    return not (occasion == "condolences" and _THANKS.search(message))


def apologises(request: MessageRequest, message: str) -> bool:
    """An apology says sorry (미안, 죄송…), whatever else it says ("Happy birthday, Jordan!"
    for "sorry I missed your birthday party" does not)."""
    if occasions.classify(request.reason) != "apology":
        return True
    return bool(_SORRY.search(message))


# Cheer that has no place on a hard occasion (the calm rule; docs/api.md, "Hard occasions").
_CHEER = re.compile(
    r"화이팅|파이팅|신나|꽃길|대박|"
    r"awesome|amazing|fabulous|you've got this|you got this|cheer up",
    re.IGNORECASE,
)
_CHEER_ON_LOSS = re.compile(
    r"즐거운|즐겁게|좋은 하루|행복한|행복하게|행복하길|행복하세요|좋은 일만|"
    r"\bfun\b|great day|\benjoy|\bexcit|best of luck|good luck|next adventure",
    re.IGNORECASE,
)


def no_cheer_on_loss(request: MessageRequest, message: str) -> bool:
    """No cheer on a loss, an illness or an apology: "화이팅", "have a great day", "you've got
    this"; and on a loss nothing glad at all ("enjoy", "행복", "best of luck")."""
    occasion = occasions.classify(request.reason)
    if occasion not in occasions.CALM:
        return True
    text = message.replace("’", "'")
    if _CHEER.search(text):
        return False
    return occasion != "condolences" or not _CHEER_ON_LOSS.search(text)


# A reason is a label for the model, not words of the message: "오늘 하루 아버님 부고 위로.",
# "수능 응원 축하해!". Korean only: an English reason is often what one says ("sorry I missed
# your party"); and only a reason that ends on a label's noun ("정년 퇴직 축하드려요" and
# "스승의 날 감사합니다" are said).
_HANGUL_AFTER = re.compile(r"[\uac00-\ud7a3]")
# A reason that ends as something said ("사랑해", "고마워", "축하해요", "감사합니다").
_SAID_ALONE = re.compile(r"[해요다워어야]\W*$")
_LABEL_NOUNS = ("위로", "기원", "응원", "사과", "조의", "인사", "부고", "애도", "격려", "감사")


def reason_not_pasted(request: MessageRequest, message: str) -> bool:
    """The request's reason does not come back as it is, as a label: a Korean reason of two
    words or more, in the message and not followed by its verb ("수능 응원해" is said, "수능
    응원 축하해" and "…부고 위로." are not)."""
    reason = " ".join((request.reason or "").split())
    if _language(request) != "ko" or request.draft or not reason:
        return True
    label = _letters(reason)
    # Only a one-word reason that is not itself said ("사랑해", "메리 크리스마스" and "새해 복
    # 많이 받으세요" are sentences), and one with letters: "" would match any message's end.
    if (
        label
        and " " not in reason
        and not _SAID_ALONE.search(reason)
        and label in [_letters(part) for part in _sentences(message)[1:]]
    ):
        return False  # "서연아, 입학 축하해! 입학!": the reason alone, as a sentence of its own
    if len(reason.split()) < 2:
        return True
    if not reason.endswith(_LABEL_NOUNS):
        return True
    text = " ".join(message.split())
    # The whole reason, and its last two words ("부고 위로" of "아버님 부고 위로").
    for label in {reason, " ".join(reason.split()[-2:])}:
        start = text.find(label)
        while start != -1:
            after = text[start + len(label) : start + len(label) + 1]
            if not _HANGUL_AFTER.match(after):
                return False
            start = text.find(label, start + 1)
    return True


# What is said only to some relations.
_FAMILY = frozenset({"partner", "parent", "grandparent", "child", "younger", "older", "friend"})
_WORK = re.compile(
    r"working with you|work with you|worked with you|\bcolleague|\bcoworker|our team|"
    r"the office|함께 일|같이 일|회사 생활|동료로",
    re.IGNORECASE,
)
_PROUD = re.compile(r"proud of you|자랑스러", re.IGNORECASE)
_UPWARD = frozenset({"boss", "teacher", "client", "senior"})
_LOVE = re.compile(r"\blove you\b|\blots of love\b", re.IGNORECASE)
_PARTNER_ONLY = re.compile(
    r"당신|너랑 낳은|marrying you|married you|our kids|our children|my husband|my wife",
    re.IGNORECASE,
)


# 너 to an elder or a superior is rude even in 반말 ("언니, …너랑…"); "너무" is not 너.
_NEO = re.compile(
    r"(?<![\uac00-\ud7a3])(?:너|네가|니가)(?:랑|는|를|의|도|한테|에게|하고|가)?(?=[\s,.!?~]|$)"
)
_ABOVE = frozenset({"parent", "grandparent", "older", "boss", "teacher", "client", "senior"})
# A parent's words about themself ("엄마는 매일 네 생각할게") to someone who is not their child.
_NOT_CHILDREN = frozenset(
    {"friend", "colleague", "boss", "teacher", "client", "senior", "neighbor", "group", "older"}
)


_KNOWN = frozenset({"partner", "parent", "grandparent", "child", "younger", "older", "friend"})
# An aunt or uncle speaking of themselves: copied from a niece's example to anyone.
_KIN_SELF = re.compile(
    r"(?<![\uac00-\ud7a3])(?:이모|삼촌|고모|외삼촌|이모부|고모부)(?:가|는|도|이|은)(?=\s)"
)
# Not to family: "엄마, 이모가 안부 전해 달래요" speaks of an aunt, not as one.
_NOT_NIECES = _NOT_CHILDREN | {"partner", "student"}


# Stock phrases the embedded model copies where they make no sense (hand reads of issue 26's
# runs): "I'm so glad you're having a Chuseok", "lucky to have us", "I'll be home early" to a
# sick friend, "Happy dad!", "하은아, 크리스마스!" (for 메리 크리스마스), "I'm glad you like them"
# to the neighbour who watered the plants, "응원 잘 하고 와" (the request's 응원 read as what
# the person does), "퇴원했다니 걱정 많이 했어" (an illness's words on the way home).
_ODD = re.compile(
    r"\bglad (?:you're|you are) having\b|\blucky to have us\b"
    r"|\bhappy (?:dad|mom)\b(?!'s|\s+day)"
    r"|(?:,\s*|[아야]\s+)크리스마스!"
    r"|\bglad you like\b"
    r"|응원\s?잘(?:\s(?!받)|해|하|했|봐)|잘 응원"
    r"|퇴원(?:했다니|했다는|한다니)\s*걱정"
    # "You're the best thing I've ever had", "Happy Eid Mubarak", "Diwali, Priya!"
    r"|best thing I've ever had|\bhappy eid mubarak\b"
    r"|^\W*(?:diwali|eid|hanukkah|easter|christmas|chuseok|thanksgiving)\s*[,!]"
    # "I'm glad to see you." in a text message; "I'll be so happy to see you!" is said.
    r"|\b(?:I'm|I am|we're|we are)\s+(?:so\s+|very\s+|really\s+)?(?:glad|happy)"
    r"\s+to see you\s*[.!]",
    re.IGNORECASE,
)
# An outcome the request does not state, from the examples ("I got the job, and you are a big
# part of why" for any recommendation letter; the hand reads of runs C–J: 8 of 8 not sendable).
_OUTCOME = re.compile(
    r"\bI (?:got|landed) the (?:job|position)\b|\bI was (?:accepted|admitted|hired)\b"
    r"|\bI got in\b",
    re.IGNORECASE,
)
# Children the request does not mention (the sender's, to a parent): "the kids love you".
_KIDS = re.compile(r"\b(?:the|my) (?:kids|children|grandkids)\b", re.IGNORECASE)
_KIDS_GIVEN = re.compile(r"\b(?:kids?|child|children|sons?|daughters?|baby|family)\b", re.I)
_OUTCOME_GIVEN = re.compile(
    r"\bjob\b|position|accept|admit|hired|got in|offer|합격|취업", re.IGNORECASE
)
# A baby's sex the request does not give, copied from an example ("Congratulations on your
# new baby girl! She is so cute." for a new baby; "She is so cute!" for her baby's first
# birthday; "아들래미" at a 백일): the hand reads of runs D–U refused all 8 for a newborn and all
# 7 for a first birthday or a 백일. The request gives it in its reason or relation ("new baby
# girl", 득남, a niece's 돌), but not by the parent's pronoun ("her baby's first birthday").
_BABY_SEX = re.compile(
    r"\bbaby (?:girl|boy)\b|\b(?:your|the|a) (?:new |little )?(?:girl|boy|daughter|son)\b"
    r"|\b(?:she|he)\b|딸|아들|공주|왕자",
    re.IGNORECASE,
)
_SEX_GIVEN = re.compile(
    r"girl|boy|daughter|\b(?:grand)?sons?\b|niece|nephew|\b(?:his|her)\b(?! (?:new |little )?baby)"
    r"|딸|아들|공주|왕자|득남|득녀",
    re.I,
)
_BABY_DAYS = frozenset({"baby", "first_birthday", "hundred_days"})
# Said to someone one lives with only ("…and I'll be home early" to a sick son).
_HOME = re.compile(r"\b(?:I'll|I will|we'll|we will) be (?:home|back) (?:early|soon)\b", re.I)
_HOUSEHOLD = frozenset({"partner", "child", "parent"})
# Glad that a sick person is better (21 of 25 such messages in the reads not sendable): "Get
# well soon, Tom. I'm glad you're feeling better." Said on recovering, it is right.
_BETTER = re.compile(
    r"\b(?:glad|happy) (?:that )?you(?:'re| are) (?:feeling )?(?:better|well)\b", re.I
)
# Glad of the wrong thing, as if the person had just walked in (the hand reads of runs C–J:
# 56 of 68 such messages not sendable): "I'm so glad you're here" at a housewarming, "glad
# you're leaving for a new job", "glad you had a great Easter" on Easter, "happy to be your
# client" from the vendor, "I'm glad to see you." in a text message.
_GLAD = re.compile(
    r"\b(?:glad|happy)\s+(?:that\s+)?(?:"
    r"you(?:'re| are)\s+(?P<where>here|home|back)\b"
    r"|to (?:have|see) you (?P<here>here)\b"
    r"|you(?:'re| are)\s+(?:retiring|leaving|moving)\b"
    r"|you had a\b[^.!?]{0,20}\b(?:birthday|day|easter|hanukkah|christmas|diwali|eid|chuseok"
    r"|holiday|time)\b|to be your (?:first )?(?:client|customer)\b"
    r"|to have you (?P<join>join)\b)",
    re.IGNORECASE,
)
# Where "glad you're here" or "…back" is the occasion: a newborn, a first day, a homecoming.
_WELCOME = frozenset({"baby", "first_birthday", "hundred_days", "admission"})
_HOMECOMING = frozenset({"discharge", "recovery"})
_RETURNING = re.compile(
    r"\b(?:coming|came|back|be) home\b|\bhome (?:from|for)\b|\bback from\b|\breturn", re.I
)
_FIRST = re.compile(r"\bfirst\b|첫", re.IGNORECASE)


def no_odd_phrase(request: MessageRequest, message: str) -> bool:
    message = message.replace("’", "'")
    if _ODD.search(message):
        return False
    if re.search(r"\bfirst job\b", message, re.IGNORECASE) and not _FIRST.search(
        request.reason or ""
    ):
        return False  # "Congratulations on your first job" for a new job: a fact made up
    if _OUTCOME.search(message) and not _OUTCOME_GIVEN.search(request.reason or ""):
        return False
    cls = korean.relation_class(request.relation)[0] if request.relation else ""
    kids_given = _KIDS_GIVEN.search(request.reason or "")
    if cls in ("parent", "grandparent") and _KIDS.search(message) and not kids_given:
        return False  # "The kids love you" to a father on Father's Day: 9 of 9 not sendable
    occasion = occasions.classify(request.reason)
    sex_given = _SEX_GIVEN.search(f"{request.reason or ''} {request.relation or ''}")
    if occasion in _BABY_DAYS and _BABY_SEX.search(message) and not sex_given:
        return False
    recovering = re.search(r"recover|better", request.reason or "", re.IGNORECASE)
    if occasion == "get_well" and not recovering and _BETTER.search(message):
        return False
    welcome = "welcome" in (request.reason or "").lower()
    joining = welcome or re.search(r"\bjoin", request.reason or "", re.IGNORECASE)
    # "coming home for Christmas", "back from deployment": the reason says they come home
    # (not "moving into a new home", where "glad you're home" was read as not sendable).
    returning = welcome or _RETURNING.search(request.reason or "")
    for glad in _GLAD.finditer(message):
        if glad["where"] in ("home", "back") and (occasion in _HOMECOMING or returning):
            continue
        if (glad["where"] or glad["here"]) == "here" and (occasion in _WELCOME or welcome):
            continue
        if glad["join"] and joining:
            continue  # "We're happy to have you join us" to a new colleague
        return False
    return cls in _HOUSEHOLD or not _HOME.search(message)


_NEWBORN = frozenset({"baby", "first_birthday", "hundred_days"})
_MEET = re.compile(
    r"(?:wait|excited|hope) to meet you|만나고 싶|만날 날"
    # "It was a pleasure to meet you" to an aunt, "good to see you again" by text
    r"|\b(?:pleasure|nice|good|great|lovely) to meet you\b"
    r"|\b(?:it's|it is|so) (?:nice|good|great|lovely) to see you\b|\bgood to see you again\b",
    re.IGNORECASE,
)
# The other spouse's word for the person: "I'm so happy to have you as my wife", "the best
# husband, wife and father I could ever ask for" to a husband. The sender's own word is said
# ("your loving wife", "I'm the luckiest husband alive").
_SPOUSE = {
    "husband": re.compile(r"\bmy wife\b|\bhusband,\s*wife\b", re.IGNORECASE),
    "wife": re.compile(r"\bmy husband\b|\bwife,\s*husband\b", re.IGNORECASE),
}
_NOTHING = re.compile(r"(?!)")
# The sender treats a customer to a meal: a friend's or a colleague's words ("다음엔 제가
# 꼭 밥 살게요" after a late delivery). A business contact may be offered a coffee.
_CUSTOMER = re.compile(r"고객|손님|회원|customer", re.IGNORECASE)
_TREAT = re.compile(r"(?:밥|커피|술|한턱)\s?(?:살게|쏠게|사 ?드릴게|낼게)")
_LEAVING = re.compile(r"\bI(?:'m| am)\b[^.!?]{0,30}\bleaving\b|\bme leaving\b", re.IGNORECASE)


def fits_role(request: MessageRequest, message: str) -> bool:
    """It speaks to the relation it is for: no "working with you" to a son or a friend, no "I'm
    so proud of you" up to a manager, a teacher or a client, no "love you" to a colleague, no
    너 to an older sister or a manager, no "엄마는 매일 네 생각할게" to a friend, and a spouse's
    words ("당신", "marrying you") to a spouse only."""
    if request.relation is None or request.draft:
        return True
    cls = korean.relation_class(request.relation)[0]
    if cls in _FAMILY and _WORK.search(message):
        return False
    if cls in _UPWARD and _PROUD.search(message):
        return False
    if cls in ("boss", "client", "colleague") and _LOVE.search(message):
        return False
    if cls in _ABOVE and _NEO.search(message):
        return False
    if cls in _NOT_CHILDREN | {"younger"} and _PARENT_SELF.search(message):
        # Nor to a brother or a nephew ("엄마는 매일 네 생각할게" to 남동생: 29 of 29 such
        # messages in the hand reads not sendable), where an aunt's "이모가" is said.
        return False
    if cls in _NOT_NIECES and _KIN_SELF.search(message):
        return False  # "이모가 선물 들고 곧 갈게" to a wife, a daughter, a friend's baby
    if cls != "partner" and _PARTNER_ONLY.search(message):
        return False
    occasion = occasions.classify(request.reason)
    if cls in _KNOWN and occasion not in _NEWBORN and _MEET.search(message):
        return False  # "I can't wait to meet you" to a son
    if _SPOUSE.get(request.relation.strip().lower(), _NOTHING).search(message):
        return False  # "I'm so happy to have you as my wife" to a husband
    if _CUSTOMER.search(request.relation) and _TREAT.search(message):
        return False
    # "Sam, I am so excited to be leaving for college": the sender took the child's place.
    return not (occasion == "send_off" and _LEAVING.search(message))


def _sentences(text: str) -> list[str]:
    return [" ".join(part.split()).lower() for part in re.split(r"[.!?。！？\n]+", text)]


def no_repeats(request: MessageRequest, message: str) -> bool:
    """No sentence said twice ("민준아, 입대 잘하고 와! … 민준아, 입대 잘하고 와!"), nor again
    inside a longer one ("We love you. … We love you very much.", "널 사랑해! (이모가) 널
    사랑해!"): what a tiny model writes when it is kept from ending (issue 26's length)."""
    said = [_letters(sentence) for sentence in _sentences(message)]
    said = [sentence for sentence in said if len(sentence) >= 4]
    for i, one in enumerate(said):
        for other in said[i + 1 :]:
            short, long = sorted((one, other), key=len)
            if short in long and 2 * len(short) >= len(long):
                return False
            # Nearly the same words: "가족 모두 건강하시길 바랍니다. 가족 모두 행복하시길
            # 바랍니다.", "이제 꽃길만 걷자! 이제부터 꽃길만 걷자!"
            if SequenceMatcher(None, one, other, autojunk=False).ratio() >= NEAR_REPEAT:
                return False
    return True


#: Two sentences this alike (difflib's ratio over their letters) say the same thing twice.
NEAR_REPEAT = 0.8

# A word said twice in a row ("푹자고 푹자고", "아빠 아빠,", "오늘 내일도 내일도"): none of the
# 9 such messages in the hand reads of issue 26's runs C–J was sendable.
_STUTTER = re.compile(r"(?<!\w)(\w{2,})\s+\1(?!\w)")
_EMPHASIS = frozenset(
    {"정말", "너무", "진짜", "very", "so", "많이", "아주", "오래", "하하", "ㅋㅋ", "ㅎㅎ"}
    | {"really", "many", "bye", "had", "that"}  # "bye bye", "what I had had", "that that"
)


# And "잘" twice ("올해도 잘 잘 다녀와", "잘 잘할거야"): 13 of 13 in the reads of runs C–P.
_JAL_JAL = re.compile(r"(?<![\uac00-\ud7a3])잘 잘")


# And words said twice in one sentence ("푹 쉬고 푹 쉬고", "밥 먹을 때도 밥 먹을 때도",
# "my best friend, my best friend"): all 5 such messages in the reads of runs C–P were
# refused. Not thanks, said twice on purpose ("Thank you, thank you!"), which no read met.
_PHRASE_TWICE = re.compile(r"(?<!\w)(\w+(?:\s+\w+){1,3})[\s,]+\1(?!\w)", re.IGNORECASE)


def no_stutter(request: MessageRequest, message: str) -> bool:
    if _JAL_JAL.search(message):
        return False
    if any(said.group(1).lower() != "thank you" for said in _PHRASE_TWICE.finditer(message)):
        return False
    return all(word.lower() in _EMPHASIS for word in _STUTTER.findall(message))


# An English title before a name ("Ms. Sarah" to a colleague called Sarah, "Mr. Adams" to
# Ms. Adams): the hand reads of runs C–J, 23 of 24 such messages not sendable.
_TITLED = re.compile(r"\b(Mr|Mrs|Ms|Miss|Dr|Professor|Prof)\b\.?\s+([A-Z][a-z]+)")
_ACADEMIC = frozenset({"dr", "professor", "prof"})


def right_title(request: MessageRequest, message: str) -> bool:
    """A title before the person's name is the one the request gives them, and none where it
    gives none, except before the family name of a full name ("Ms. Kim" to Sarah Kim; Dr. and
    Professor are the same title)."""
    if not request.name or request.draft:
        return True
    parts = request.name.replace(".", " ").split()
    given = {part.lower() for part in parts[:1]} | {
        t.lower() for t in parts if t.lower() in _ACADEMIC
    }
    untitled = not _TITLED.match(request.name)
    for found in _TITLED.finditer(message):
        if found[2] not in parts:
            continue  # someone else ("Mr. Kim's team")
        if untitled and len(parts) > 1 and found[2] == parts[-1]:
            continue  # "Ms. Kim" to Sarah Kim: a family name takes a title
        title = found[1].lower()
        if title in given or (title in _ACADEMIC and given & _ACADEMIC):
            continue
        if title == "ms" and given & {"mrs", "miss"}:
            continue  # "Ms. Lee" to Mrs. Lee: Ms. is said to any woman
        return False
    return True


# Family names that are said as often as one likes ("아빠, 생신 축하해! 아빠, 오늘…").
_KIN_CALLS = frozenset(
    {"엄마", "아빠", "어머니", "아버지", "할머니", "할아버지", "mom", "mum", "dad", "grandma"}
    | {"grandpa", "nana", "granny", "mother", "father"}
    # The address an older sibling, an aunt or an uncle gets ("언니, 생일 축하해! 언니, 오늘…")
    | {"언니", "누나", "형", "오빠", "형님", "이모", "고모", "삼촌"}
)


def calls_once(request: MessageRequest, message: str) -> bool:
    """The person is called by name once, not again halfway ("최 과장님, 감사드립니다. 최
    과장님, 정말 감사합니다.", "I love you, Minji! Happy birthday, Minji!"): a tiny model
    starting its message over (hand reads of runs C–J: 19 of 23 such messages not sendable)."""
    if not request.name or request.draft:
        return True
    forms = {" ".join(request.name.split()), korean.given_name(request.name)}
    if _language(request) == "ko" and request.relation:
        forms.add(korean.address(request.name, request.relation, request.manner).address)
    forms = {form for form in forms if form and form.lower() not in _KIN_CALLS}
    if not forms:
        return True
    names = "|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True))
    # As written, not whatever the case: "Happy birthday, Will! I will, of course, call…"
    if len(re.findall(rf"(?<!\w)(?:{names})(?:[아야])?\s*[,!]", message)) >= 2:
        return False
    # A Korean name with its title said again at all, not only as a call: "이지은 선생님, 졸업할
    # 수 있었던 건 모두 이지은 선생님 덕분입니다." (after the address, it is "선생님 덕분"): over
    # the hand reads of runs A–U it refuses 6 messages the vocative count let through, all ✗.
    titled = sorted((form for form in forms if " " in form), key=len, reverse=True)
    if not titled or _language(request) != "ko":
        return True
    titled_names = "|".join(re.escape(form) for form in titled)
    return len(re.findall(rf"(?<!\w)(?:{titled_names})", message)) < 2


# Brackets, markup and long digit runs: "(You're) my best friend", "<em>(or 10000000…",
# "(The recipient's name is not shown)". None of the bank's messages has one.
_MARKUP = re.compile(r"[()<>\[\]{}]|\d{5,}")


def no_markup(request: MessageRequest, message: str) -> bool:
    return not _MARKUP.search(message)


# A base model copies its examples' facts: "Ten years ago I said yes" to any spouse, "창립 5주년"
# to any company, "2018년도 건강하시고". A count the request does not give is a fact the sender
# did not state (the hand read of issue 26's n = 3 run: 13 of 324 messages).
_WORD_NUMBERS = {
    "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11,
    "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}  # fmt: skip
_KOREAN_DIGITS = {"일": 1, "이": 2, "삼": 3, "사": 4, "오": 5, "육": 6, "칠": 7, "팔": 8, "구": 9}
_COUNT = re.compile(
    r"(\d+)(?:st|nd|rd|th)?"
    rf"|\b({'|'.join(_WORD_NUMBERS)})\s+years?\b"
    r"|([일이삼사오육칠팔구]?십?[일이삼사오육칠팔구]?)\s?(?:주년|년)(?=\s|[가-힣]|$)",
    re.IGNORECASE,
)


def _korean_number(word: str) -> int:
    if "십" not in word:
        return _KOREAN_DIGITS.get(word, 0)
    tens, _, ones = word.partition("십")
    return _KOREAN_DIGITS.get(tens, 1) * 10 + _KOREAN_DIGITS.get(ones, 0)


def _counts(text: str) -> set[int]:
    found = set()
    for digits, word, korean_word in _COUNT.findall(text):
        if digits:
            found.add(int(digits))
        elif word:
            found.add(_WORD_NUMBERS[word.lower()])
        elif korean_word:
            found.add(_korean_number(korean_word))
    return found - {0}


def no_invented_numbers(request: MessageRequest, message: str) -> bool:
    """Every count in the message (a number, "ten years", "5주년", "십 년") is one the request
    gives in its reason, draft, manner or name."""
    given = " ".join(
        field for field in (request.reason, request.draft, request.manner, request.name) if field
    )
    return _counts(message) <= _counts(given)


# The occasion's greeting said twice ("Happy Diwali, Priya! Wishing you a happy Diwali.",
# "결혼 축하해! 결혼 진심으로 축하해!"): no_repeats sees whole sentences only.
_GREETING = re.compile(
    r"happy\s+[a-z']+|congratulations|congrats|merry christmas|eid mubarak|"
    r"축하(?:해|합니다|드립니다|드려요|한다|드리)|명복을|새해 복|쾌유를",
    re.IGNORECASE,
)


def greets_once(request: MessageRequest, message: str) -> bool:
    """The occasion's greeting ("Happy Diwali", congratulations, 생일 축하해, 명복을) is said
    once."""
    said = [" ".join(found.lower().split()) for found in _GREETING.findall(message)]
    kinds = [word[:2] if word.startswith("축하") else word for word in said]
    return len(kinds) == len(set(kinds))


# Whose loss it is: the kin the reason names, not another's ("할머니의 명복" for 아버님 부고,
# "your wife" for the loss of her husband).
_KIN: dict[str, tuple[str, ...]] = {
    "father": ("아버님", "아버지", "부친", "father", "dad"),
    "mother": ("어머님", "어머니", "모친", "mother", "mom", "mum"),
    "grandmother": ("할머니", "grandmother", "grandma"),
    "grandfather": ("할아버지", "grandfather", "grandpa"),
    "husband": ("남편", "husband"),
    "wife": ("아내", "부인", "wife"),
    "father-in-law": ("장인", "시아버지", "빙부", "father-in-law"),
    "mother-in-law": ("장모", "시어머니", "빙모", "mother-in-law"),
    "son": ("아드님", "아들", "son"),
    "daughter": ("따님", "딸", "daughter"),
    "brother": ("형님", "오빠", "남동생", "brother"),
    "sister": ("언니", "누나", "여동생", "sister"),
    "pet": ("강아지", "고양이", "반려", "dog", "cat", "pet"),
}


def _kin_in(text: str) -> set[str]:
    lowered = text.lower()
    found = set()
    for kin, words in _KIN.items():
        for word in words:
            pattern = r"\b" + re.escape(word) + r"\b" if word.isascii() else re.escape(word)
            if re.search(pattern, lowered):
                found.add(kin)
    # "grandmother" holds "mother", "father-in-law" holds "father", 할아버지 holds 아버지.
    if found & {"grandmother", "mother-in-law"} and not re.search(
        r"(?<!grand)(?<!-)mother\b|(?<!할)어머", lowered
    ):
        found.discard("mother")
    if found & {"grandfather", "father-in-law"} and not re.search(
        r"(?<!grand)father(?!-)|(?<!할)아버", lowered
    ):
        found.discard("father")
    return found


def right_person(request: MessageRequest, message: str) -> bool:
    """A condolence names the loss the reason names, not another's."""
    if occasions.classify(request.reason) != "condolences":
        return True
    named = _kin_in(request.reason or "")
    if not named:
        return True
    spoken_to = _kin_in(f"{request.relation or ''} {request.name or ''}")
    return not (_kin_in(message) - named - spoken_to)


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
    # Issue 26's
    "no other occasion's words": lambda c, m: no_other_occasion(c.request, m),
    "apologises when it should": lambda c, m: apologises(c.request, m),
    "no cheer on a hard occasion": lambda c, m: no_cheer_on_loss(c.request, m),
    "does not paste the reason": lambda c, m: reason_not_pasted(c.request, m),
    "fits the relation's role": lambda c, m: fits_role(c.request, m),
    "no sentence said twice": lambda c, m: no_repeats(c.request, m),
    "names the right person's loss": lambda c, m: right_person(c.request, m),
    # From the hand read of 108 n = 3 requests on the embedded model (docs/eval/)
    "invents no numbers": lambda c, m: no_invented_numbers(c.request, m),
    "greets once": lambda c, m: greets_once(c.request, m),
    # From messages kept from ending before half of max_length (issue 26's length)
    "no brackets or markup": lambda c, m: no_markup(c.request, m),
    "no odd stock phrase": lambda c, m: no_odd_phrase(c.request, m),
    # From the hand read of runs C–J (docs/eval/issue-26-length-read.md)
    "no word twice in a row": lambda c, m: no_stutter(c.request, m),
    "calls the person once": lambda c, m: calls_once(c.request, m),
    "the right title": lambda c, m: right_title(c.request, m),
}


# What the start of a message must already get right, judged as each sentence ends (the
# embedded model writes a failing sentence again, providers/local.py); the rest of CRITERIA
# (the person, the occasion, a finished ending…) is judged on the whole message.
SO_FAR: dict[str, Callable[[Case, str], bool]] = {
    **{
        name: CRITERIA[name]
        for name in (
            # The first sentence names the person ("Happy birthday, Minji!", "박 부장님, …"):
            # a message whose first sentence does not never did, in the hand reads.
            "names the person",
            "right language",
            "no preamble/quotes/placeholder",
            "no other season/holiday",
            "Korean speech level fits",
            "echoes none of the prompt",
            # Issue 26's checks that a start of a message already fails when the whole would:
            # each looks for words that must not be there.
            "no other occasion's words",
            "no cheer on a hard occasion",
            "does not paste the reason",
            "fits the relation's role",
            "names the right person's loss",
            "invents no numbers",
            "greets once",
            "no sentence said twice",
            "no brackets or markup",
            "no odd stock phrase",
            "no word twice in a row",
            "calls the person once",
            "the right title",
        )
    },
    "calm so far": lambda c, m: calm(c.request, m, so_far=True),
    "no slip in the address": lambda c, m: no_address_slip(c.request, m),
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
