"""What a client may ask for: the message request, every field's rule and its language
(docs/api.md, "The request"). The web layer turns a body into a JSON object (web/request.py);
this is the rest."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError

from .errors import APIError, ErrorCode
from .text.language import detect_language, from_accept_language, normalise_tag

# Control characters other than newline (C0, DEL, C1), and lone surrogates that JSON's \ud800
# escapes can smuggle in.
_FORBIDDEN = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _text(value: Any) -> Any:
    """Trim and NFC-normalise a string; refuse control characters."""
    if not isinstance(value, str):
        return value  # pydantic reports the wrong type
    if _FORBIDDEN.search(value):
        raise ValueError("must not contain control characters")
    return unicodedata.normalize("NFC", value).strip()


def _max_length(value: Any) -> Any:
    """Accept an integer or a string of digits (the original clients send "200")."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("must be an integer")
    if isinstance(value, str):
        digits = value.strip()
        if not digits.isascii() or not digits.isdigit() or len(digits) > 6:
            raise ValueError("must be an integer")
        return int(digits)
    return value


#: The most messages one request may ask for (`n`).
MAX_N = 5


def _count(value: Any) -> Any:
    """`n`: a JSON integer only (not 2.5, "2" or true)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be an integer from 1 to {MAX_N}")
    return value


#: `n`'s rule, the one definition: the request's field, and what the rate limit spends.
Count = Annotated[int, BeforeValidator(_count), Field(ge=1, le=MAX_N)]
_COUNT = TypeAdapter(Count)


def messages_asked(data: object) -> int:
    """How many messages a request body (a decoded JSON value) asks for: its `n` when `n` keeps
    its rule, else 1 (the request then gets its 422 from validate_fields)."""
    n = data.get("n", 1) if isinstance(data, dict) else 1
    try:
        return _COUNT.validate_python(n, strict=True)
    except ValidationError:
        return 1


def _language(value: Any) -> Any:
    """A well-formed BCP 47 tag of at most 35 characters naming a language we know, in its
    conventional case; anything else is refused (it never reaches the prompt)."""
    value = _text(value)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("must be a BCP 47 language tag such as ko, en or ja")
    return normalise_tag(value)


Text = Annotated[str, BeforeValidator(_text)]


class MessageRequest(BaseModel):
    """Who the message is for, why, how it should sound and how long it may be."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: Annotated[Text | None, Field(max_length=40)] = Field(
        None, description="The recipient's name.", examples=["Minji"]
    )
    # Required without a draft (validate_fields); optional with one.
    relation: Annotated[Text | None, Field(min_length=1, max_length=40)] = Field(
        None, description="Who they are to the sender.", examples=["wife"]
    )
    reason: Annotated[Text | None, Field(min_length=1, max_length=200)] = Field(
        None, description="The occasion or reason.", examples=["birthday"]
    )
    draft: Annotated[Text | None, Field(min_length=1, max_length=1000)] = Field(
        None,
        description=(
            "The sender's own text, to rewrite in `manner` (keeping its facts, names and "
            "meaning) instead of writing anew; with a draft, relation and reason are optional."
        ),
        examples=["Sorry I couldn't make it to your party, I hope it was great."],
    )
    manner: Annotated[Text | None, Field(max_length=80)] = Field(
        None, description="Tone; default: warm.", examples=["warm and playful"]
    )
    max_length: Annotated[int, BeforeValidator(_max_length), Field(ge=20, le=1000)] = Field(
        200, description="The most characters the message may have (20-1000)."
    )
    language: Annotated[str | None, BeforeValidator(_language)] = Field(
        None,
        description=(
            "A well-formed BCP 47 tag of at most 35 characters (ko, en-US, pt-BR, zh-Hant-TW) of "
            "a language we write in; default: detected from the fields, else Accept-Language."
        ),
    )
    n: Count = Field(
        1, description="How many different messages to write (1-5); each counts as one."
    )


def validate_fields(data: dict[str, Any]) -> MessageRequest:
    """Check every field's rule; a 422 names each field that breaks one."""
    fields: dict[str, str] = {}
    try:
        request = MessageRequest.model_validate(data)
    except ValidationError as exc:
        request = None
        for error in exc.errors(include_url=False):
            where = str(error["loc"][0]) if error["loc"] else "body"
            fields.setdefault(where, _describe(error))
    if data.get("draft") is None:
        # Without a draft there is nothing to write from but the relation and the reason.
        for required in ("relation", "reason"):
            if data.get(required) is None:
                fields.setdefault(required, "required")
    if fields or request is None:
        raise APIError(ErrorCode.INVALID_REQUEST, fields=fields)
    return request


def _describe(error: Any) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    if kind in ("string_type", "string_sub_type"):
        return "must be a string"
    if kind in ("string_too_short", "too_short"):
        return "must not be empty"
    ctx = error.get("ctx", {})
    if kind in ("string_too_long", "too_long"):
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "greater_than_equal":
        return f"must be at least {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"must be at most {ctx.get('le')}"
    return str(error["msg"])


def resolve_language(request: MessageRequest, accept_language: str | None) -> str:
    """docs/api.md's default: the fields' script, else Accept-Language, else English."""
    if request.language:
        return request.language
    texts = (request.name, request.relation, request.reason, request.manner, request.draft)
    return (
        detect_language(" ".join(t for t in texts if t))
        or from_accept_language(accept_language)
        or "en"
    )
