"""The form page: GET / shows it; POST / (form-encoded) writes a message without JavaScript.

With JavaScript the page streams from POST /v1/messages/stream instead (static/app.js); both ways
share the fields, the friendly error texts and the page's language (templates/i18n/*.json).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from quart import Blueprint, Response, render_template, request
from quart_schema import hide
from werkzeug.exceptions import HTTPException

from ..errors import APIError, ErrorCode
from ..generation import Done, Failure
from ..paths import data_dir
from ..request import resolve_language, validate_fields
from .api import begin, outcomes, service
from .page_token import issue_page_token, verify_page_token
from .policies import PAGE_N, page_token, rate_limited
from .security import own_origin_only

log = logging.getLogger("messagebot.web")

bp = Blueprint("web", __name__)

FIELDS = ("name", "relation", "reason", "manner", "max_length", "language", "draft")
UI_LANGUAGES = ("en", "ko")
LANG_COOKIE = "lang"
# Each language under its own name: people look for the name they would write themselves.
MESSAGE_LANGUAGES = (
    ("ko", "한국어"),
    ("en", "English"),
    ("ja", "日本語"),
    ("zh", "中文"),
    ("es", "Español"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("pt", "Português"),
    ("vi", "Tiếng Việt"),
    ("th", "ไทย"),
    ("id", "Bahasa Indonesia"),
    ("ru", "Русский"),
)
DEFAULT_MAX_LENGTH = "200"
#: The longest message a card can hold (max_length's top), as the forms carry it back.
MAX_SHOWN = 1000
# Everything the page needs is served by the app itself; nothing inline, nothing from elsewhere.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    # (X-Content-Type-Options and Referrer-Policy come with every response: security.py.)
    # The page holds a token and possibly a personal message: no shared cache may keep it.
    "Cache-Control": "no-store",
    "Vary": "Accept-Language, Cookie",
}
_SOON = ("rate_limited", "busy", "server_shutdown")


@cache
def page_text(ui: str) -> dict[str, Any]:
    """The page's words in one UI language (templates/i18n/<ui>.json)."""
    path = data_dir("templates") / "i18n" / f"{ui}.json"
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def ui_language(chosen: str | None = None) -> tuple[str, bool]:
    """The page's language, and whether the visitor just picked it (so a cookie remembers it)."""
    chosen = request.args.get("lang") or chosen
    if chosen in UI_LANGUAGES:
        return chosen, True
    remembered = request.cookies.get(LANG_COOKIE)
    if remembered in UI_LANGUAGES:
        return remembered, False
    return request.accept_languages.best_match(UI_LANGUAGES, default="en"), False


def friendly(error: APIError, text: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """What to tell a person about `error`: one sentence, and one per field it names."""
    errors = text["errors"]
    general = errors.get(error.code, errors["other"])
    if error.code in _SOON:
        general += " " + (
            text["retry_in"].format(seconds=error.retry_after)
            if error.retry_after
            else text["retry_soon"]
        )
    fields: dict[str, str] = {}
    for name, problem in (error.fields or {}).items():
        rules = text["field_errors"].get(name)
        if rules is None:
            continue  # not a field of the form (an unknown one): the general sentence covers it
        if "control characters" in problem:
            fields[name] = text["field_errors"]["chars"]
        elif problem in ("required", "must not be empty"):
            fields[name] = rules["required"]
        else:
            fields[name] = rules["rule"]
    return general, fields


def _shown(one: Done | Failure | None, text: Mapping[str, Any]) -> dict[str, Any]:
    """One card of the form's answer: its message, or why it failed ({}: an empty card)."""
    if one is None:
        return {}
    if isinstance(one, Failure):
        return {"error": friendly(APIError(one.code, one.message), text)[0]}
    return {"message": one.message, "length": one.length, "finish_reason": one.finish_reason}


def offered_languages() -> tuple[tuple[str, str], ...]:
    """The message languages the page offers: those the provider's model writes (the embedded
    base model writes only some; docs/local-model.md)."""
    writes = service().provider.languages
    return tuple(item for item in MESSAGE_LANGUAGES if writes is None or item[0] in writes)


def client_text(ui: str) -> dict[str, Any]:
    """The words static/app.js needs, handed over in the page: every UI language's, so that the
    한국어 | English switch redraws the page in place, keeping the form and the message."""
    return {"ui": ui, "texts": {code: page_text(code) for code in UI_LANGUAGES}}


async def render_page(
    status: int,
    *,
    values: Mapping[str, str] | None = None,
    results: Sequence[Done | Failure | None] | None = None,
    max_length: int | None = None,
    error: APIError | None = None,
    chosen_ui: str | None = None,
) -> Response:
    ui, remember = ui_language(chosen_ui)
    text = page_text(ui)
    general, field_errors = friendly(error, text) if error else ("", {})
    shown = {"max_length": DEFAULT_MAX_LENGTH, "language": ui, **(values or {})}
    page = await render_template(
        "index.html",
        ui=ui,
        t=text,
        js_text=client_text(ui),
        values=shown,
        languages=offered_languages(),
        results=[_shown(one, text) for one in results or []],
        max_length=max_length,
        general_error=general,
        field_errors=field_errors,
        token=issue_page_token(service().settings.secret_key),
    )
    response = Response(page, status, content_type="text/html; charset=utf-8")
    if error is not None:
        error.note()
        if error.retry_after is not None:
            response.headers["Retry-After"] = str(error.retry_after)
    if remember:
        response.set_cookie(LANG_COOKIE, ui, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


@bp.after_request
async def page_headers(response: Response) -> Response:
    response.headers.update(PAGE_HEADERS)
    return response


@bp.errorhandler(Exception)
async def page_error(error: Exception) -> Response:
    """Any failure on a page route is a page with a friendly sentence, never JSON."""
    if isinstance(error, APIError):
        problem = error
    elif isinstance(error, HTTPException):
        # A broken or oversized form body: no field to point at.
        problem = APIError.from_http(error)
        if problem.code is not ErrorCode.TOO_LARGE:
            problem = APIError(ErrorCode.BAD_FORM, status=problem.status)
    else:
        log.exception("the page failed")
        problem = APIError(ErrorCode.INTERNAL_ERROR)
    return await render_page(problem.status, error=problem)


@bp.get("/")
@hide
@own_origin_only
async def index() -> Response:
    return await render_page(200)


def _values(form: Mapping[str, str]) -> dict[str, str]:
    return {key: form.get(key, "").replace("\r\n", "\n") for key in FIELDS if key in form}


def carried(form: Any) -> list[Done | None]:
    """The messages on screen, which each of the page's forms carries back (hidden `shown`
    fields, one a card, "" for an empty one), so that the language switch, a refinement and a
    write that fails keep them: None for an empty card."""
    shown = [one.replace("\r\n", "\n") for one in form.getlist("shown")]
    if len(shown) > PAGE_N or any(len(one) > MAX_SHOWN for one in shown):
        raise APIError(ErrorCode.BAD_FORM)
    return [
        Done("", one, len(one), "stop", None, index) if one else None
        for index, one in enumerate(shown)
    ]


def _card(form: Mapping[str, str]) -> int | None:
    """The card a refinement rewrites (its `refined` field), or None for a write."""
    refined = form.get("refined")
    if refined is None:
        return None
    if refined not in [str(index) for index in range(PAGE_N)]:
        raise APIError(ErrorCode.BAD_FORM)
    return int(refined)


def _max_length(values: Mapping[str, str]) -> int:
    """The length the cards' counts are out of, as the form asked (or the default)."""
    asked = values.get("max_length", "").strip()
    if asked.isascii() and asked.isdigit() and len(asked) <= 4:
        return int(asked)
    return int(DEFAULT_MAX_LENGTH)


@bp.post("/")
@rate_limited
@page_token("form")
@hide
@own_origin_only
async def write_without_javascript() -> Response:
    """The form's write (PAGE_N messages), or a card's refinement (one, in place of that
    card's: the others stay); a write that fails leaves the messages on screen as they were."""
    form = await request.form
    values = _values(form)
    chosen_ui = form.get("ui")
    shown: list[Done | None] = []
    card: int | None = None
    try:
        shown = carried(form)
        card = _card(form)
        settings = service().settings
        # With API keys configured, the form is let through on the token its page carried.
        if settings.api_keys and not verify_page_token(
            settings.secret_key, form.get("page_token", "")
        ):
            raise APIError(ErrorCode.EXPIRED_FORM)
        asked = {key: value for key, value in values.items() if value.strip()}
        fields = validate_fields({**asked, "n": PAGE_N if card is None else 1})
        language = resolve_language(fields, request.headers.get("Accept-Language"))
        written: list[Done | Failure | None] = list(await outcomes(await begin(fields, language)))
    except APIError as error:
        if card is not None:
            values.pop("draft", None)
        return await render_page(
            error.status,
            values=values,
            results=shown,
            max_length=_max_length(values),
            error=error,
            chosen_ui=chosen_ui,
        )
    if card is not None:  # a card's refinement: its draft was that card, not the draft box's
        values.pop("draft", None)
        assert isinstance(written[0], Done), "one message asked, and outcomes() had one"
        rewritten = dataclasses.replace(written[0], index=card)
        cards: list[Done | Failure | None] = [*shown]
        cards += [None] * (PAGE_N - len(cards))
        cards[card] = rewritten
        written = cards
    return await render_page(
        200, values=values, results=written, max_length=fields.max_length, chosen_ui=chosen_ui
    )


@bp.post("/language")
@hide
@own_origin_only
async def switch_language() -> Response:
    """The 한국어 | English switch without JavaScript (its buttons submit the form here): the
    page again in the chosen language, with the form's values and the messages on screen.
    A POST, so that nothing the person typed goes into a URL; it writes nothing."""
    form = await request.form
    values = _values(form)
    chosen = form.get("switch")
    # The message's language follows the page's, unless the person picked another.
    if chosen in UI_LANGUAGES and values.get("language") == form.get("ui"):
        values["language"] = chosen
    return await render_page(
        200,
        values=values,
        results=carried(form),
        max_length=_max_length(values),
        chosen_ui=chosen,
    )
