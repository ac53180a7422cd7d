"""The one table of error codes: the SPEC's statuses, and Quart's own HTTP errors mapped
onto it."""

from __future__ import annotations

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

#: ../shared/SPEC.md, "Errors": status and code, as clients rely on them.
SPEC = {
    "invalid_json": 400,
    "unauthorized": 401,
    "too_large": 413,
    "unsupported_media_type": 415,
    "invalid_request": 422,
    "rejected_by_model": 422,
    "rate_limited": 429,
    "upstream_error": 502,
    "busy": 503,
    "upstream_timeout": 504,
}


def test_the_specs_codes_have_the_specs_statuses() -> None:
    assert {code: ErrorCode(code).status for code in SPEC} == SPEC


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


async def test_an_error_answer_is_the_specs_json() -> None:
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
