"""Response bodies, as the OpenAPI document describes them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel


class Choice(BaseModel):
    index: int
    message: str
    length: int
    finish_reason: Literal["stop", "length"]
    #: Who wrote this message: with fallback upstreams, each may come from another.
    provider: Literal["openai", "local"]
    model: str


class MessageResponse(BaseModel):
    id: str
    message: str
    length: int
    finish_reason: Literal["stop", "length"]
    language: str
    model: str
    provider: Literal["openai", "local"]
    usage: dict[str, Any] | None
    #: One per message written (`n`), by index; the fields above are the first's.
    choices: list[Choice]


class ErrorBody(BaseModel):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class Health(BaseModel):
    status: Literal["ok"]
    provider: str
    model: str
    #: Only with REDIS_URL: whether Redis answers (when not, rate limits are not enforced).
    redis: Literal["ok", "unreachable"] | None = None
    #: Only with a rate limit: whether the limiter enforces it right now.
    rate_limit: Literal["enforced", "not enforced"] | None = None
    #: Only with fallback upstreams: each one's model and state, in order (no URL, no key).
    upstreams: list[Upstream] | None = None


class Upstream(BaseModel):
    model: str
    state: Literal["ok", "failing"]


class StatsResponse(BaseModel):
    messages_generated: int
    requests: int
    by_provider: dict[str, int]
    by_outcome: dict[str, int]
    #: Per API key name (a bare key's fingerprint, `page`, `anonymous`): messages, requests,
    #: prompt_tokens, completion_tokens.
    by_key: dict[str, dict[str, int]]
    scope: str
