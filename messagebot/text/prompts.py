"""Turning a request into chat messages, from the Jinja2 templates in prompts/."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, TypedDict

import jinja2

from ..paths import data_dir
from ..request import MessageRequest
from . import examples as example_bank
from . import korean, occasions, quality
from .language import language_name

_DENSE_SCRIPTS = ("ko", "ja", "zh", "th")
# A message may end at its first sentence end past this share of max_length (issue 17); at
# least half, so that a message is about as long as it was asked to be (issue 26).
FINISH_SHARE = 0.5
# The local base model's tries at each sentence before it keeps the best (issues 17, 26).
CANDIDATES = 3


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


PromptStyle = Literal["chat", "completion"]


@dataclass(frozen=True)
class Prompt:
    """Chat messages for instruction-tuned models, or one few-shot text for base models."""

    max_tokens: int
    messages: list[ChatMessage] = field(default_factory=list)
    text: str = ""
    stop: tuple[str, ...] = ()
    # For a provider that can stop its model (the local one): stop at the first sentence end
    # once the text has `finish_after` characters, and once it has more than `max_chars`
    # (the service would cut it anyway). 0: no such stop.
    finish_after: int = 0
    max_chars: int = 0
    # For a provider that can judge as it writes (the local one, issue 26): each sentence is
    # judged on the text so far by `sentence_check`, the last by `check` (1.0: it passes); one
    # that fails is written again, up to `candidates` tries, then the best is kept, or the
    # message ends before it when every try made it worse (providers/local.py).
    candidates: int = 1
    # Messages this request has already written (`generation.Choices` asking again after a
    # duplicate): a provider that judges as it writes does not end on one of them.
    avoid: tuple[str, ...] = ()
    check: Callable[[str], float] | None = field(default=None, compare=False, repr=False)
    sentence_check: Callable[[str], float] | None = field(default=None, compare=False, repr=False)


def _oneline(value: str) -> str:
    return " ".join(value.split())


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("prompts")),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text for a model, not HTML
        trim_blocks=True,
        keep_trailing_newline=False,
        # Read once per process: checking every template file's mtime on each request was
        # ~3% of our CPU under load (bench/). Restart to pick up an edited prompt.
        auto_reload=False,
    )
    environment.filters["oneline"] = _oneline
    return environment


@lru_cache(maxsize=1)
def _examples() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((data_dir("prompts") / "examples.json").read_text("utf-8"))
    return data


def _template(kind: str, language: str) -> jinja2.Template:
    """`system.ko.j2` when prompts/ has one for the language, else `system.j2`."""
    return _select(kind, language.split("-")[0])


@lru_cache(maxsize=256)
def _select(kind: str, primary: str) -> jinja2.Template:
    # Cached: Jinja2 caches templates it found, not the ones it did not (a file system
    # look-up for `system.en.j2` on every English request).
    return _environment().select_template([f"{kind}.{primary}.j2", f"{kind}.j2"])


def max_tokens_for(max_length: int, language: str) -> int:
    """A cost cap derived from the character limit; the service cuts the text itself."""
    per_char = 1.5 if language.split("-")[0] in _DENSE_SCRIPTS else 0.5
    return math.ceil(max_length * per_char) + 16


def build_prompt(
    request: MessageRequest,
    language: str,
    style: PromptStyle = "chat",
    variant: int | None = None,
) -> Prompt:
    """The prompt for one request. The fields go in as data, never as instructions.

    `variant` varies a base model's few-shot examples (examples.select): each new request
    gets its own, so that "Write another" writes another message; None, the nearest five."""
    max_tokens = max_tokens_for(request.max_length, language)
    name = language_name(language)  # our own name for it: the client's tag never goes in
    if style == "completion":
        if request.draft:
            return _rewrite(request, language, max_tokens)
        return _completion(request, language, max_tokens, variant)
    occasion = occasions.classify(request.reason)
    calm = occasion in occasions.CALM
    defaults = _examples()["calm_manner" if calm else "default_manner"]
    fields = {
        key: value
        for key, value in (
            ("name", request.name),
            ("relation", request.relation),
            ("reason", request.reason),
            ("manner", request.manner),
            ("draft", request.draft),
        )
        if value
    }
    # JSON keeps each field a quoted string (a newline in it is written \n); escaping < and >
    # keeps a field from closing the <request> block and speaking outside it, and escaping
    # U+2028 and U+2029 keeps it from starting a line where a tokenizer breaks lines there.
    request_json = (
        json.dumps(fields, ensure_ascii=False, indent=1)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
    # The instructions hold only our own text: a client's manner stays in the data block, and
    # the system prompt points at it; without one, the tone is our default for the language.
    context = {
        "language_name": name,
        "has_name": bool(request.name),
        "has_manner": bool(request.manner),
        "has_draft": bool(request.draft),
        "has_relation": bool(request.relation),
        # Hard occasions (loss, illness, apologies) get the calm rule; our own words, chosen
        # by the occasion the reason names, never the reason itself.
        "calm": calm,
        "apology": occasion == "apology",
        "default_manner": defaults.get(language.split("-")[0], f"warm, natural {name}"),
        "max_length": request.max_length,
        # A message is asked to be at least half its max_length: the length the person chose
        # means something (issue 26).
        "min_length": request.max_length // 2,
        "request_json": request_json,
    }
    return Prompt(
        max_tokens=max_tokens,
        messages=[
            {"role": "system", "content": _template("system", language).render(context)},
            {"role": "user", "content": _template("user", language).render(context)},
        ],
    )


def _completion(
    request: MessageRequest, language: str, max_tokens: int, variant: int | None = None
) -> Prompt:
    primary = language.split("-")[0]
    examples = _examples()
    occasion = occasions.classify(request.reason)
    defaults = examples["calm_manner" if occasion in occasions.CALM else "default_manner"]
    manner = request.manner or defaults.get(primary, defaults["en"])
    reason = request.reason or ""
    relation = request.relation or ""
    form: korean.Address | None = None
    if primary == "ko":
        # The speech level and the form of address, from the relation (issue 17); the
        # occasion's usual phrase goes beside it, as a gloss.
        form = korean.address(request.name, relation, request.manner)
        usual = korean.phrase(occasion, form.level, form.relation)
        if usual and usual not in reason:
            reason = f"{reason} ({usual})"
    else:
        reason = examples["glossary"].get(reason, reason)
    bank_language = primary if primary in example_bank.bank() else "en"
    chosen = example_bank.select(
        bank_language,
        occasion,
        form.relation if form else korean.relation_class(relation)[0],
        form.level if form else "",
        example_bank.tone_class(manner),
        request.max_length,
        _particle(form),
        variant,
    )
    text = _completion_template().render(
        language_name=language_name(language),
        has_name=bool(request.name),
        examples=[_example_block(example) for example in chosen],
        request={
            "name": request.name,
            "relation": request.relation,
            "reason": reason,
            "manner": manner,
            "speech": form.label if form else "",
            "address": form.address if form else "",
        },
    )
    # One message is one line; a new "To:" would be the model inventing the next example.
    finish_after = max(20, math.ceil(FINISH_SHARE * request.max_length))
    return Prompt(
        max_tokens=max_tokens,
        text=text,
        stop=("\n", "To:"),
        finish_after=finish_after,
        max_chars=request.max_length,
        candidates=CANDIDATES,
        check=quality.score(request, language),
        sentence_check=quality.score(request, language, quality.SO_FAR),
    )


def _rewrite(request: MessageRequest, language: str, max_tokens: int) -> Prompt:
    """A few-shot prompt for a base model to rewrite the sender's draft: examples of drafts
    and their rewrites (prompts/examples.json's "rewrites"), then the draft, on one line."""
    assert request.draft, "a rewrite needs a draft"
    primary = language.split("-")[0]
    examples = _examples()
    occasion = occasions.classify(request.reason)
    defaults = examples["calm_manner" if occasion in occasions.CALM else "default_manner"]
    manner = request.manner or defaults.get(primary, defaults["en"])
    rewrites = examples["rewrites"]
    bank_language = primary if primary in rewrites else "en"
    # The example of the closest tone last, next to the request, where a base model looks; a
    # condolence example only for a hard occasion (its words get copied into any rewrite).
    hard = occasion in occasions.CALM or occasions.is_calm(request.draft)
    tone = example_bank.tone_class(manner)
    chosen = sorted(
        (example for example in rewrites[bank_language] if hard or not example.get("calm")),
        key=lambda example: (
            example["manner"] == manner,
            example_bank.tone_class(example["manner"]) == tone,
        ),
    )
    template = _environment().get_template("rewrite.j2")
    text = template.render(
        language_name=language_name(language),
        examples=[{"name": "", "relation": "", "reason": "", **e} for e in chosen],
        request={
            "draft": request.draft,
            "manner": manner,
            "name": request.name or "",
            "relation": request.relation or "",
            "reason": request.reason or "",
        },
    )
    return Prompt(
        max_tokens=max_tokens,
        text=text,
        stop=("\n", "Draft:"),
        # A rewrite is as long as its draft asks: no early stop at a sentence end.
        max_chars=request.max_length,
        candidates=CANDIDATES,
        check=quality.score(request, language),
        sentence_check=quality.score(request, language, quality.SO_FAR),
    )


def _particle(form: korean.Address | None) -> str:
    if form and form.level == "banmal" and form.address.endswith(("아", "야")):
        return form.address[-1]
    return ""


@lru_cache(maxsize=1)
def _completion_template() -> jinja2.Template:
    return _environment().get_template("completion.j2")


@lru_cache(maxsize=1024)
def _example_block(example: example_bank.Example) -> dict[str, str]:
    reason = example.reason
    if example.language == "ko":
        usual = korean.phrase(example.occasion, example.level, example.relation_class)  # type: ignore[arg-type]
        if usual and usual not in reason:
            reason = f"{reason} ({usual})"
    return {
        "name": example.name,
        "relation": example.relation,
        "reason": reason,
        "manner": example.manner,
        "speech": "반말" if example.level == "banmal" else "존댓말" if example.level else "",
        "address": example.address,
        "message": example.message,
    }
