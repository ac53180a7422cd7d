"""The example bank (prompts/bank.json) and nearest-example selection for the few-shot prompt.

A 270M base model copies its examples closely, so the examples decide most of what it writes
(issue 17). For each request we take the bank's closest messages: same language, same or a
neighbouring occasion (never another season's), same Korean speech level, same relation,
similar length. The bank is tagged once at load; a selection is a scored pass over at most a
few hundred entries, cached by its key.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..paths import data_dir
from . import korean, occasions

EXAMPLES_PER_PROMPT = 5

_FORMAL = re.compile(r"공손|정중|격식|예의|존중|깍듯|polite|formal|respectful|grateful")
_PLAYFUL = re.compile(r"장난|발랄|유머|재치|귀엽|밝게|playful|funny|cheerful|upbeat|humorous|witty")
_ROMANTIC = re.compile(r"로맨틱|사랑|애틋|romantic|loving|tender")


def tone_class(manner: str) -> str:
    """formal, playful, romantic or warm: enough to prefer an example of the same feel."""
    text = manner.lower()
    for name, pattern in (("formal", _FORMAL), ("playful", _PLAYFUL), ("romantic", _ROMANTIC)):
        if pattern.search(text):
            return name
    return "warm"


def length_band(length: int) -> str:
    return "short" if length <= 60 else "medium" if length <= 120 else "long"


@dataclass(frozen=True)
class Example:
    language: str
    name: str
    relation: str
    reason: str
    manner: str
    message: str
    occasion: str
    relation_class: str
    level: str  # "banmal" or "polite" for Korean; "" otherwise
    address: str  # the Korean form of address; "" otherwise
    tone: str
    band: str


def _tag(language: str, entry: dict[str, str]) -> Example:
    occasion = entry.get("occasion") or occasions.classify(entry["reason"])
    if language == "ko":
        form = korean.address(entry["name"], entry["relation"], entry["manner"])
        level, address, cls = entry.get("level") or form.level, form.address, form.relation
    else:
        level, address, cls = "", "", korean.relation_class(entry["relation"])[0]
    return Example(
        language=language,
        name=entry["name"],
        relation=entry["relation"],
        reason=entry["reason"],
        manner=entry["manner"],
        message=entry["message"],
        occasion=occasion,
        relation_class=cls,
        level=level,
        address=address,
        tone=entry.get("tone") or tone_class(entry["manner"]),
        band=length_band(len(entry["message"])),
    )


#: The bank's files, read in this order: bank.json, then more examples per language
#: (longer ones for long requests, and the other languages the embedded model writes).
BANK_FILES = ("bank.json", "bank_more.json")


@lru_cache(maxsize=1)
def bank() -> dict[str, tuple[Example, ...]]:
    entries: dict[str, list[dict[str, str]]] = {}
    for file in BANK_FILES:
        raw: dict[str, Any] = json.loads((data_dir("prompts") / file).read_text("utf-8"))
        for language, more in raw.items():
            if not language.startswith("_"):
                entries.setdefault(language, []).extend(more)
    return {
        language: tuple(_tag(language, entry) for entry in more)
        for language, more in entries.items()
    }


# Relations one looks up to, and what one does not say to them.
UPWARD = frozenset({"boss", "teacher", "client", "senior", "grandparent", "parent"})
_PROUD = re.compile(r"proud of you|자랑스러", re.IGNORECASE)
_CONGRATS = re.compile(r"축하|congrat", re.IGNORECASE)
# A parent speaking of themselves ("엄마는 매일 네 생각할게"), not of becoming one ("엄마가
# 되다니"): shown and accepted for a child or a partner only (text/quality.py too).
PARENT_SELF = re.compile(r"(?<![\uac00-\ud7a3])(?:엄마|아빠)(?:는|가|도)(?=\s)(?!\s*되)")


def _score(
    example: Example,
    occasion: str,
    cls: str,
    level: str,
    tone: str,
    max_length: int,
    particle: str,
) -> float | None:
    if occasion in occasions.CALM and occasions.LOUD.search(example.message):
        return None  # a base model copies an example's "!" into a condolence message
    if cls in UPWARD and _PROUD.search(example.message):
        return None  # "I'm so proud of you" to a manager is copied, and condescends upward
    if cls not in ("child", "partner") and PARENT_SELF.search(example.message):
        return None  # "엄마는 매일 네 생각할게" to a friend: a parent's words are copied too
    if example.occasion == occasion:
        score = 100.0
    elif example.occasion in occasions.NEIGHBOURS.get(occasion, ()):
        score = 40.0
    elif example.occasion in occasions.SEASONAL:
        return None  # another season's example drags that season into the message
    elif occasions.kind(example.occasion) == occasions.kind(occasion) != "other":
        # An occasion the bank barely knows borrows from its kind (a loss, a thanks, a
        # cheer…), its plain examples first: they carry no other occasion's words (issue 26).
        score = 30.0 if example.occasion == occasions.PLAIN.get(occasions.kind(occasion)) else 20.0
    elif occasion in occasions.CALM:
        return None  # "thank you for your help" to the bereaved, "얼른 나아" to an apology
    elif occasions.kind(occasion) == "cheer" and _CONGRATS.search(example.message):
        return None  # "수능 응원 축하해": 응원 is not 축하
    else:
        score = 0.0
    if level:
        # A 반말 example for a 존댓말 request (or the reverse) is copied, level and all: worse
        # than an example of another occasion at the right level.
        score += 30 if example.level == level else -80
    if particle and example.address.endswith(particle):
        # "준호야" is copied best from examples that call by 야 too; with 8 the nearest 전역
        # example was still "승민아", and the model wrote "승우아" (issue 26).
        score += 12
    if example.relation_class == cls:
        score += 15
    if example.tone == tone:
        score += 5
    length = len(example.message)
    # The model writes about as long as its examples: a long request needs long ones (the
    # message should have at least half of max_length, issue 26).
    # At most 55 in all: less than the 60 between an example of this occasion and one of a
    # neighbouring occasion, so that length never brings in another occasion's words.
    target = max(0.7 * max_length, 30)
    score -= min(25.0, 25 * abs(length - target) / target)
    if length < max_length / 2:
        score -= 15  # a short example makes a short message, whatever was asked
    if length > 0.9 * max_length:
        score -= 15  # the model writes about as long as its examples
    return score


_KIN = frozenset({"partner", "parent", "grandparent", "child", "younger"})

#: "Write another" (issue 26): a request with a variant draws its five from this many of the
#: nearest, so that two requests do not show the model the same examples (which it copies).
POOL_PER_PROMPT = 9
#: ... of those at most this much less near than the fifth nearest (a neighbouring occasion's
#: example scores 60 less than one of the same occasion).
POOL_MARGIN = 30.0


def select(
    language: str,
    occasion: str,
    cls: str,
    level: str,
    tone: str,
    max_length: int,
    particle: str = "",
    variant: int | None = None,
) -> tuple[Example, ...]:
    """The closest examples, the closest last (nearest the request, where a base model looks).

    `language` is the bank's language ("en" for any language the bank lacks); `particle` is
    the vocative ending of the Korean address ("아" or "야"), if it has one. Without a
    `variant`, the five nearest; with one, five drawn by it from the nearest POOL_PER_PROMPT,
    nearly in the same order (the same variant draws the same five in the same order)."""
    ranked = _ranked(language, occasion, cls, level, tone, max_length, particle)
    if variant is None:
        chosen = [example for _, example in ranked[:EXAMPLES_PER_PROMPT]]
    else:
        # The model copies the last example most: about equally near ones (within the margin)
        # take turns there, but one of a neighbouring occasion never goes after this one's.
        draw = random.Random(variant)
        picked = draw.sample(ranked, min(EXAMPLES_PER_PROMPT, len(ranked)))
        jittered = [(score + draw.uniform(0, POOL_MARGIN), example) for score, example in picked]
        jittered.sort(key=lambda item: item[0], reverse=True)
        chosen = [example for _, example in jittered]
    # In the family, the last place, the one the model copies most, goes to an example of
    # this relation and occasion when one was chosen: a friend's "먼저 연락해 줘서 고마웠어"
    # came last for a wife, and was copied (the hand reads of issue 26, runs J, K and M).
    # Not for friends and colleagues, whose examples are near enough to each other: there it
    # would show one example last every time, and "Write another" would write the same.
    fitting = [e for e in chosen if e.relation_class == cls and e.occasion == occasion]
    if cls in _KIN and fitting and chosen[0] is not fitting[0]:
        chosen.remove(fitting[0])
        chosen.insert(0, fitting[0])
    return tuple(reversed(chosen))


@lru_cache(maxsize=4096)
def _ranked(
    language: str,
    occasion: str,
    cls: str,
    level: str,
    tone: str,
    max_length: int,
    particle: str,
) -> tuple[tuple[float, Example], ...]:
    """The bank's examples that may be shown for this request and their scores, nearest
    first."""
    scored = []
    for index, example in enumerate(bank()[language]):
        score = _score(example, occasion, cls, level, tone, max_length, particle)
        if score is not None:
            scored.append((score, -index, example))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    if len(scored) > EXAMPLES_PER_PROMPT:
        # Only examples about as near as the fifth: not another occasion's in place of this one's.
        floor = scored[EXAMPLES_PER_PROMPT - 1][0] - POOL_MARGIN
        scored = [item for item in scored if item[0] >= floor]
    return tuple((score, example) for score, _, example in scored[:POOL_PER_PROMPT])
