"""A request's body as the service reads it: bytes → one JSON object, strictly (docs/api.md,
"The request"). The fields' own rules are the domain's (messagebot/request.py)."""

from __future__ import annotations

import json
from typing import Any

from ..errors import APIError, ErrorCode

MAX_BODY_BYTES = 16 * 1024
_MAX_NUMBER_DIGITS = 30


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > _MAX_NUMBER_DIGITS:
        raise ValueError("number too large")
    return int(digits)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("number too large")
    return value


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a body strictly: UTF-8, standard JSON, one object, no duplicate keys."""
    if len(raw) > MAX_BODY_BYTES:
        raise APIError(ErrorCode.TOO_LARGE)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise APIError(ErrorCode.INVALID_JSON, "The body is not valid UTF-8.") from None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_int=_bounded_int,
            parse_float=_finite_float,
            parse_constant=_constant,
        )
    except _DuplicateKey as exc:
        raise APIError(ErrorCode.INVALID_JSON, f"The key {exc} appears twice.") from None
    except (ValueError, RecursionError):
        raise APIError(ErrorCode.INVALID_JSON, "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise APIError(ErrorCode.INVALID_JSON, "The body must be a JSON object.")
    return data
