"""Turning a request into chat messages, from the Jinja2 templates in prompts/."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, TypedDict

import jinja2

from .language import language_name
from .paths import data_dir
from .request import MessageRequest

_DENSE_SCRIPTS = ("ko", "ja", "zh", "th")


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class Prompt:
    messages: list[ChatMessage]
    max_tokens: int


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(data_dir("prompts")),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text for a model, not HTML
        trim_blocks=True,
        keep_trailing_newline=False,
    )


def _template(kind: str, language: str) -> jinja2.Template:
    """`system.ko.j2` when prompts/ has one for the language, else `system.j2`."""
    primary = language.split("-")[0]
    return _environment().select_template([f"{kind}.{primary}.j2", f"{kind}.j2"])


def max_tokens_for(max_length: int, language: str) -> int:
    """A cost cap derived from the character limit; the service cuts the text itself."""
    per_char = 1.5 if language.split("-")[0] in _DENSE_SCRIPTS else 0.5
    return math.ceil(max_length * per_char) + 16


def build_prompt(request: MessageRequest, language: str) -> Prompt:
    """The chat messages for one request. The fields go in as JSON data, never as prose."""
    fields = {
        key: value
        for key, value in (
            ("name", request.name),
            ("relation", request.relation),
            ("reason", request.reason),
            ("manner", request.manner),
        )
        if value
    }
    # JSON keeps each field a quoted string; escaping < and > keeps a field from closing the
    # <request> block and speaking outside it.
    request_json = (
        json.dumps(fields, ensure_ascii=False, indent=1)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
    )
    context = {
        "language": language,
        "language_name": language_name(language),
        "has_name": bool(request.name),
        "manner": request.manner or f"warm, natural {language_name(language)}",
        "max_length": request.max_length,
        "request_json": request_json,
    }
    return Prompt(
        messages=[
            {"role": "system", "content": _template("system", language).render(context)},
            {"role": "user", "content": _template("user", language).render(context)},
        ],
        max_tokens=max_tokens_for(request.max_length, language),
    )
