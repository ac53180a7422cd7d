"""Every error a client can see: one table of codes (status and message), the one exception
that carries them, and the handlers that render every failure as JSON."""

from __future__ import annotations

import enum
import logging
from typing import Any

from quart import Quart, Response, has_request_context, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger("messagebot")

#: Where an error answer leaves its code in the request's ASGI scope, for the request log
#: (web/request_log.py), which counts every request's error once.
ERROR_SCOPE_KEY = "messagebot.error"


@enum.unique  # a duplicated code would silently become an alias of the first
class ErrorCode(enum.StrEnum):
    """A stable code from docs/api.md's table, with its HTTP status and the message it carries
    unless a raise gives a more precise one. A member is the code's string itself."""

    status: int
    default_message: str

    def __new__(cls, code: str, status: int, message: str) -> ErrorCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.status = status
        member.default_message = message
        return member

    # The request's and the upstream's (docs/api.md, "Errors").
    INVALID_JSON = "invalid_json", 400, "The body must be a JSON object encoded as UTF-8."
    UNAUTHORIZED = "unauthorized", 401, "A valid API key is required."
    TOO_LARGE = "too_large", 413, "The body is larger than 16 KiB."
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type", 415, "Send the body as application/json."
    INVALID_REQUEST = "invalid_request", 422, "Some fields are not valid."
    REJECTED_BY_MODEL = "rejected_by_model", 422, "The model refused this request."
    RATE_LIMITED = "rate_limited", 429, "Too many requests; try again later."
    UPSTREAM_ERROR = "upstream_error", 502, "The language model service failed; try again."
    BUSY = "busy", 503, "The model is busy; try again shortly."
    UPSTREAM_TIMEOUT = "upstream_timeout", 504, "The language model did not answer in time."
    # Shutdown, routing, our own failures, and the form page (docs/api.md, "Errors").
    SERVER_SHUTDOWN = "server_shutdown", 503, "The server is restarting; try again."
    NOT_FOUND = "not_found", 404, "There is nothing here."
    METHOD_NOT_ALLOWED = "method_not_allowed", 405, "That method is not allowed here."
    INTERNAL_ERROR = "internal_error", 500, "Something went wrong on our side."
    BAD_FORM = "bad_form", 400, "The form could not be read; try again."
    EXPIRED_FORM = "expired_form", 401, "The page has expired; reload it and try again."
    FORBIDDEN = "forbidden", 403, "This request is not allowed from another site."


#: The codes of Quart's own HTTP errors (no route, wrong method, a body too large…); any
#: other 4xx of theirs is `invalid_request` and any 5xx `internal_error`, with their status.
_FOR_HTTP_STATUS = {
    code.status: code
    for code in (
        ErrorCode.INVALID_JSON,
        ErrorCode.UNAUTHORIZED,
        ErrorCode.NOT_FOUND,
        ErrorCode.METHOD_NOT_ALLOWED,
        ErrorCode.TOO_LARGE,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE,
        ErrorCode.RATE_LIMITED,
    )
}


class APIError(Exception):
    """An error answer: its code, a message for people, and what else the client needs."""

    def __init__(
        self,
        code: ErrorCode,
        message: str | None = None,
        *,
        fields: dict[str, str] | None = None,
        retry_after: int | None = None,
        status: int | None = None,
    ) -> None:
        self.code = code
        #: The code's own status, unless this is an HTTP error of Quart's with another one.
        self.status = status or code.status
        self.message = message or code.default_message
        self.fields = fields
        self.retry_after = retry_after
        super().__init__(f"{code}: {self.message}")

    @classmethod
    def from_http(cls, error: HTTPException) -> APIError:
        status = error.code or 500
        fallback = ErrorCode.INTERNAL_ERROR if status >= 500 else ErrorCode.INVALID_REQUEST
        return cls(_FOR_HTTP_STATUS.get(status, fallback), status=status)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code.value, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}

    def note(self) -> None:
        """Note the code for the request log, which counts every error answer once."""
        if has_request_context():
            request.scope[ERROR_SCOPE_KEY] = self.code  # type: ignore[literal-required]

    def response(self) -> Response:
        self.note()
        response = jsonify(self.body())
        response.status_code = self.status
        if self.retry_after is not None:
            response.headers["Retry-After"] = str(self.retry_after)
        return response


def init_app(app: Quart) -> None:
    @app.errorhandler(APIError)
    async def handle_api_error(error: APIError) -> Response:
        return error.response()

    @app.errorhandler(HTTPException)
    async def handle_http_exception(error: HTTPException) -> Response:
        response = APIError.from_http(error).response()
        if error.code == 405:
            allow = dict(error.get_headers()).get("Allow")
            if allow:
                response.headers["Allow"] = allow
        return response

    @app.errorhandler(Exception)
    async def handle_unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return APIError(ErrorCode.INTERNAL_ERROR).response()
