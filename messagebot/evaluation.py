"""The evaluation set: does the configured provider write messages people would send?

`messagebot eval` runs every request in prompts/eval_cases.json through the same path as the
API (prompt, provider, cleanup, length limit) and prints each criterion's pass rate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .paths import data_dir
from .request import MessageRequest

_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_LATIN = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")
_PREAMBLE = re.compile(
    r"^(?:sure|certainly|of course|absolutely|here(?:'s| is)|물론|다음은|여기)"
    r"[^\n]{0,120}(?:message|메시지)?[^\n]{0,40}:\s*(?:\n|$)",
    re.IGNORECASE,
)
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
        _PREAMBLE.search(text)
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


CRITERIA: dict[str, Callable[[MessageRequest, str], bool]] = {
    "fits max_length": fits,
    "names the person": names_the_person,
    "right language": right_language,
    "no preamble/quotes/placeholder": clean,
    "at least a few words": enough_words,
}


@dataclass
class Outcome:
    request: MessageRequest
    message: str
    error: str | None
    passed: dict[str, bool]

    @property
    def all_passed(self) -> bool:
        return self.error is None and all(self.passed.values())


def load_cases() -> list[MessageRequest]:
    raw: list[dict[str, Any]] = json.loads((data_dir("prompts") / "eval_cases.json").read_text())
    return [MessageRequest.model_validate(case) for case in raw]


def judge(request: MessageRequest, message: str, error: str | None = None) -> Outcome:
    passed = {name: error is None and check(request, message) for name, check in CRITERIA.items()}
    return Outcome(request, message, error, passed)


def report(outcomes: list[Outcome]) -> str:
    total = len(outcomes)
    lines = [f"{total} requests"]
    for name in CRITERIA:
        ok = sum(o.passed[name] for o in outcomes)
        lines.append(f"  {name:<32} {ok:>3}/{total}  {ok / total:6.1%}")
    ok = sum(o.all_passed for o in outcomes)
    lines.append(f"  {'all criteria':<32} {ok:>3}/{total}  {ok / total:6.1%}")
    for language in sorted({(o.request.language or "en") for o in outcomes}):
        subset = [o for o in outcomes if (o.request.language or "en") == language]
        ok = sum(o.all_passed for o in subset)
        lines.append(
            f"  all criteria, {language:<18} {ok:>3}/{len(subset)}  {ok / len(subset):6.1%}"
        )
    return "\n".join(lines)
