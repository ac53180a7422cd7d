"""The form page: GET / shows it; POST / (form-encoded) writes a message without JavaScript."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, render_template, request
from quart_schema import hide

from .api import writer
from .errors import APIError, status_for
from .generation import Done
from .request import resolve_language, validate_fields

bp = Blueprint("web", __name__)

FIELDS = ("name", "relation", "reason", "manner", "max_length", "language")


@bp.get("/")
@hide
async def index() -> str:
    return await render_template("index.html", values={}, result=None, error=None)


@bp.post("/")
@hide
async def write_without_javascript() -> tuple[str, int]:
    form = await request.form
    values: dict[str, Any] = {
        key: form.get(key, "").replace("\r\n", "\n") for key in FIELDS if form.get(key, "").strip()
    }
    try:
        fields = validate_fields(values)
        language = resolve_language(fields, request.headers.get("Accept-Language"))
        run = await writer().begin(fields, language)
        outcome = await run.result()
        if not isinstance(outcome, Done):
            raise APIError(status_for(outcome.code), outcome.code, outcome.message)
    except APIError as error:
        page = await render_template("index.html", values=values, result=None, error=error)
        return page, error.status
    page = await render_template("index.html", values=values, result=outcome, error=None)
    return page, 200
