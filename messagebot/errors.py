"""The one error type clients see, and the handlers that render every failure as JSON."""

from __future__ import annotations

import logging
from typing import Any

from quart import Quart, Response, jsonify
from werkzeug.exceptions import HTTPException

from .metrics import ERRORS

log = logging.getLogger("messagebot")

# Human messages for the SPEC's codes; a raise may give a more precise one.
MESSAGES = {
    "invalid_json": "The body must be a JSON object encoded as UTF-8.",
    "unauthorized": "A valid API key is required.",
    "too_large": "The body is larger than 16 KiB.",
    "unsupported_media_type": "Send the body as application/json.",
    "invalid_request": "Some fields are not valid.",
    "rejected_by_model": "The model refused this request.",
    "rate_limited": "Too many requests; try again later.",
    "upstream_error": "The language model service failed; try again.",
    "busy": "The model is busy; try again shortly.",
    "upstream_timeout": "The language model did not answer in time.",
    "server_shutdown": "The server is restarting; try again.",
    "not_found": "There is nothing here.",
    "method_not_allowed": "That method is not allowed here.",
    "internal_error": "Something went wrong on our side.",
}


_STATUS = {
    "upstream_error": 502,
    "busy": 503,
    "server_shutdown": 503,
    "upstream_timeout": 504,
    "rejected_by_model": 422,
}


def status_for(code: str) -> int:
    """The HTTP status for a failure that happened after the provider accepted the request."""
    return _STATUS.get(code, 502)


class APIError(Exception):
    """An error with an HTTP status and a stable code from the SPEC's table."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | None = None,
        *,
        fields: dict[str, str] | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message or MESSAGES.get(code, code)
        self.fields = fields
        self.retry_after = retry_after
        super().__init__(f"{code}: {self.message}")

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}

    def response(self) -> Response:
        ERRORS.labels(self.code).inc()
        response = jsonify(self.body())
        response.status_code = self.status
        if self.retry_after is not None:
            response.headers["Retry-After"] = str(self.retry_after)
        return response


_HTTP_CODES = {
    400: "invalid_json",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def init_app(app: Quart) -> None:
    @app.errorhandler(APIError)
    async def handle_api_error(error: APIError) -> Response:
        return error.response()

    @app.errorhandler(HTTPException)
    async def handle_http_exception(error: HTTPException) -> Response:
        status = error.code or 500
        code = _HTTP_CODES.get(status, "internal_error" if status >= 500 else "invalid_request")
        retry_after = getattr(error, "retry_after", None)  # limits.RateLimited
        response = APIError(status, code, retry_after=retry_after).response()
        if status == 405:
            allow = dict(error.get_headers()).get("Allow")
            if allow:
                response.headers["Allow"] = allow
        return response

    @app.errorhandler(Exception)
    async def handle_unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return APIError(500, "internal_error").response()
