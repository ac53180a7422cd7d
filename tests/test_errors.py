"""The one table of error codes: docs/api.md's codes and statuses, and Quart's own HTTP errors
mapped onto it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from quart import Quart
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
    RequestTimeout,
    TooManyRequests,
)

from messagebot.errors import APIError, ErrorCode

ROOT = Path(__file__).resolve().parent.parent


def documented_codes() -> list[tuple[str, int]]:
    """docs/api.md's error table (section "Errors"): each row's code and status, in order."""
    api = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    section = api.split("\n## Errors\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d{3}) \| `([a-z_]+)` \|", section, re.M)
    return [(code, int(status)) for status, code in rows]


def test_the_docs_error_table_is_errors_table() -> None:
    documented = documented_codes()
    assert len(documented) == len({code for code, _ in documented}), documented
    assert dict(documented) == {code.value: code.status for code in ErrorCode}


def test_every_code_has_a_status_and_a_sentence() -> None:
    for code in ErrorCode:
        assert 400 <= code.status <= 599, code
        assert code.default_message.endswith("."), code
    # A duplicated value would be an alias: in __members__, but not among the codes.
    assert list(ErrorCode.__members__.values()) == list(ErrorCode)


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (BadRequest(), "invalid_json", 400),
        (NotFound(), "not_found", 404),
        (MethodNotAllowed(["GET"]), "method_not_allowed", 405),
        (RequestEntityTooLarge(), "too_large", 413),
        (TooManyRequests(), "rate_limited", 429),
        # No code of its own: the nearest one, with Quart's status kept.
        (RequestTimeout(), "invalid_request", 408),
        (InternalServerError(), "internal_error", 500),
    ],
)
def test_quarts_http_errors_get_a_code_and_keep_their_status(
    error: HTTPException, code: str, status: int
) -> None:
    problem = APIError.from_http(error)
    assert (problem.code, problem.status) == (code, status)


async def test_an_error_answer_is_the_documented_json() -> None:
    app = Quart(__name__)
    async with app.test_request_context("/"):
        response = APIError(ErrorCode.BUSY, retry_after=7).response()
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "7"
        assert await response.get_json() == {
            "error": {"code": "busy", "message": ErrorCode.BUSY.default_message}
        }
        fields = {"name": "too long"}
        body = APIError(ErrorCode.INVALID_REQUEST, fields=fields).body()
        assert body["error"]["fields"] == fields
