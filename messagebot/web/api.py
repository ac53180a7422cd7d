"""The JSON and streaming API: messages (whole or streamed), the original route, health, stats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import asdict

from quart import Blueprint, Response, current_app, request
from quart_schema import document_request, document_response

from ..errors import APIError, ErrorCode
from ..generation import (
    Choices,
    Delta,
    Done,
    Failure,
    GenerationService,
    Heartbeat,
    MessageStream,
)
from ..request import MessageRequest, resolve_language, validate_fields
from ..stats import RedisStats
from . import generations, request_log, sse
from .policies import page_token, rate_limited
from .request import parse_json_object
from .schemas import ErrorResponse, Health, MessageResponse, StatsResponse
from .security import client_name

bp = Blueprint("api", __name__)


def service() -> GenerationService:
    return current_app.extensions["messagebot"]  # type: ignore[no-any-return]


async def begin(fields: MessageRequest, language: str) -> MessageStream | Choices:
    """Start a generation for this request, noted for the request log."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        # The client left as its body arrived, and the cancellation that says so was lost:
        # Quart reads the body with asyncio.wait_for, which on Python 3.11 returns a result
        # that completed in the step the task was cancelled, and drops the cancellation. Go
        # on being cancelled rather than write a message for nobody.
        raise asyncio.CancelledError
    stream = await service().begin(fields, language, client_name())
    # Closed when the request ends, also if the client left before its body was read.
    generations.begun(request.scope, stream)
    record: dict[str, object] | None = request.scope.get(request_log.SCOPE_KEY)  # type: ignore[assignment]
    if record is not None:
        record["stream"] = stream
    return stream


async def outcomes(stream: MessageStream | Choices) -> list[Done | Failure]:
    """Every message's outcome, by index; when none was written, the first one's error."""
    ended = await stream.results() if isinstance(stream, Choices) else [await stream.result()]
    if not any(isinstance(one, Done) for one in ended):
        failed = ended[0]
        assert isinstance(failed, Failure)
        raise APIError(failed.code, failed.message)
    return ended


async def read_message_request() -> tuple[MessageRequest, str]:
    """The request's fields and the message language, or a 4xx APIError."""
    if request.mimetype != "application/json":
        raise APIError(ErrorCode.UNSUPPORTED_MEDIA_TYPE)
    data = parse_json_object(
        await request.get_data(cache=False, as_text=False, parse_form_data=False)
    )
    fields = validate_fields(data)
    return fields, resolve_language(fields, request.headers.get("Accept-Language"))


def one_message_only(fields: MessageRequest, why: str) -> None:
    """Raw text has no way to tell messages apart: `n` must be 1 there."""
    if fields.n != 1:
        raise APIError(ErrorCode.INVALID_REQUEST, fields={"n": f"must be 1 {why}"})


_TEXT_HEADERS = {**sse.HEADERS, "Content-Type": "text/plain; charset=utf-8"}


async def _streaming(body: AsyncIterator[bytes], headers: dict[str, str]) -> Response:
    response = Response(body, 200, headers)
    # Our own deadlines bound a stream; Quart's 60 s default would cut a legitimate one.
    response.timeout = None
    return response


async def sse_body(stream: MessageStream | Choices, heartbeat: float) -> AsyncIterator[bytes]:
    yield sse.encode("start", asdict(stream.start))
    async for item in stream.events(heartbeat, coalesce=True):
        if isinstance(item, Heartbeat):
            yield sse.PING
        elif isinstance(item, Delta):
            yield sse.encode("delta", {"index": item.index, "text": item.text})
        elif isinstance(item, Done):
            yield sse.encode("done", asdict(item))
        else:
            yield sse.encode(
                "error", {"index": item.index, "code": item.code, "message": item.message}
            )


def _choice(done: Done) -> dict[str, object]:
    return {
        "index": done.index,
        "message": done.message,
        "length": done.length,
        "finish_reason": done.finish_reason,
        "provider": done.provider,
        "model": done.model,
    }


async def text_body(stream: MessageStream | Choices) -> AsyncIterator[bytes]:
    # Plain text has no way to say "failed": a failure simply ends the text early.
    async for item in stream.events(coalesce=True):
        if isinstance(item, Delta):
            yield item.text.encode()


@bp.post("/v1/messages")
@rate_limited
@page_token("header")
@document_request(MessageRequest)
@document_response(MessageResponse)
@document_response(ErrorResponse, 422)
async def create_message() -> tuple[dict[str, object], int]:
    """Write one message (or `n`) and return it whole.

    `choices` holds the messages that were written, by index; one that failed is left out
    (its index with it). The top-level fields are the first's; if none was written, the
    first one's error is the answer."""
    fields, language = await read_message_request()
    stream = await begin(fields, language)
    written = [outcome for outcome in await outcomes(stream) if isinstance(outcome, Done)]
    body = asdict(written[0])
    del body["index"]
    # `provider` and `model` (from asdict) are the first written message's writer.
    body.update(
        language=language,
        choices=[_choice(done) for done in written],
    )
    return body, 200


@bp.post("/v1/messages/stream")
@rate_limited
@page_token("header")
@document_request(MessageRequest)
@document_response(ErrorResponse, 422)
async def stream_message() -> Response:
    """Write one message and stream it as Server-Sent Events (start, delta…, done or error).

    With `Accept: text/plain`, stream the raw text instead."""
    fields, language = await read_message_request()
    plain = request.accept_mimetypes.best_match(["text/event-stream", "text/plain"]) == "text/plain"
    if plain:
        one_message_only(fields, "with Accept: text/plain")
    stream = await begin(fields, language)
    if plain:
        return await _streaming(text_body(stream), _TEXT_HEADERS)
    return await _streaming(sse_body(stream, service().settings.heartbeat_s), sse.HEADERS)


@bp.post("/streaming/")
@rate_limited
@page_token("header")
@document_request(MessageRequest)
async def legacy_streaming() -> Response:
    """The original MessageBot route, kept for its clients: raw text chunks."""
    fields, language = await read_message_request()
    one_message_only(fields, "on /streaming/ (raw text)")
    stream = await begin(fields, language)
    # The original sent raw text under the SSE content type; its clients expect exactly that.
    return await _streaming(text_body(stream), sse.HEADERS)


@bp.get("/healthz")
@document_response(Health)
async def healthz() -> dict[str, object]:
    """Say that the service is up, and which provider and model it uses; with REDIS_URL,
    whether Redis answers (`ok` or `unreachable`); with a rate limit, whether the limiter
    enforces it right now (`enforced` or `not enforced`: Redis unreachable, or refusing the
    limiter's script)."""
    provider = service().provider
    body: dict[str, object] = {"status": "ok", "provider": provider.name, "model": provider.model}
    health = getattr(provider, "health", None)
    if health is not None:  # fallback upstreams: each one's model and state, never a URL
        body["upstreams"] = health()
    stats = service().stats
    if isinstance(stats, RedisStats):
        # Bounded: at once while Redis is known to be down, else a PING of at most 0.25 s.
        body["redis"] = await stats.redis.health()
    limiter = current_app.extensions.get("rate_limiter")
    if limiter is not None:
        # The limiter's own answer (its script run, bounded like the PING), not the counters'.
        body["rate_limit"] = "enforced" if await limiter.enforced() else "not enforced"
    return body


@bp.get("/v1/stats")
@document_response(StatsResponse)
async def stats() -> dict[str, object]:
    """Usage counters: messages generated, by provider, by outcome, and per API key name
    (messages and tokens)."""
    return await service().stats.snapshot()
