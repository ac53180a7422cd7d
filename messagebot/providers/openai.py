"""Any OpenAI-compatible upstream (OpenAI, vLLM, Ollama, llama.cpp's server) via the openai SDK."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import AsyncIterator
from typing import Any, cast

import openai
from openai import AsyncOpenAI

try:  # the SDK's HTTP client: httpx2 from openai 3, httpx before
    from httpx2 import Limits, TransportError
except ImportError:  # pragma: no cover
    from httpx import Limits, TransportError  # type: ignore[assignment]
from openai.types.chat import ChatCompletionMessageParam

from ..config import Settings
from ..errors import APIError
from ..prompts import Prompt, PromptStyle

log = logging.getLogger("messagebot.openai")

DEFAULT_RETRY_AFTER = 5
_DROPPED = "The language model service is unreachable or dropped the connection."
_loads = json.loads


def _retry_after(exc: openai.APIStatusError) -> int:
    raw = exc.response.headers.get("retry-after", "")
    try:
        return max(1, min(3600, math.ceil(float(raw))))
    except ValueError:
        return DEFAULT_RETRY_AFTER


def upstream_error(exc: Exception) -> APIError:
    """The one place that turns an upstream failure into our error code (SPEC: Errors)."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, openai.RateLimitError):
        return APIError(
            503,
            "busy",
            "The language model service is busy; try again shortly.",
            retry_after=_retry_after(exc),
        )
    if isinstance(exc, openai.BadRequestError):
        return APIError(422, "rejected_by_model")
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        log.error("upstream refused our credentials (%s)", type(exc).__name__)
        return APIError(
            502, "upstream_error", "The language model service refused our credentials."
        )
    if isinstance(exc, openai.APITimeoutError):
        return APIError(504, "upstream_timeout")
    if isinstance(exc, openai.APIConnectionError | TransportError):
        return APIError(502, "upstream_error", _DROPPED)
    if isinstance(exc, openai.APIStatusError):
        return APIError(
            502, "upstream_error", f"The language model service failed (HTTP {exc.status_code})."
        )
    if isinstance(exc, openai.APIError):
        return APIError(
            502, "upstream_error", "The language model service reported an error mid-way."
        )
    log.warning("upstream sent a broken reply (%s)", type(exc).__name__)
    return APIError(502, "upstream_error", "The language model service sent a broken reply.")


class OpenAIGeneration:
    """Reads the upstream's SSE lines itself: building the SDK's pydantic object for every
    chunk was most of our CPU per stream (bench/). The SDK still makes the request, checks
    the status and turns refusals into its exceptions."""

    def __init__(self, response: Any, manager: Any) -> None:
        self._response = response
        self._manager = manager
        self.usage: dict[str, Any] | None = None

    async def pieces(self) -> AsyncIterator[str]:
        finished = False
        try:
            lines = self._response.iter_lines()
            async for line in lines:
                if not line.startswith("data:"):
                    continue  # blank lines, comments, event: and id: fields
                data = line[5:].strip()
                if data == "[DONE]":
                    await self._finish_body(lines)
                    return
                chunk = _loads(data)
                if not isinstance(chunk, dict):
                    raise ValueError("a chunk that is not a JSON object")
                if chunk.get("error"):
                    raise APIError(
                        502,
                        "upstream_error",
                        "The language model service reported an error mid-way.",
                    )
                usage = chunk.get("usage")
                if usage:
                    self.usage = {
                        key: usage.get(key)
                        for key in ("prompt_tokens", "completion_tokens", "total_tokens")
                    }
                choices = chunk.get("choices")
                if choices:
                    choice = choices[0]
                    finished = finished or bool(choice.get("finish_reason"))
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        yield text
        except Exception as exc:
            raise upstream_error(exc) from exc
        if not finished:  # it ended without [DONE] or a finish_reason: it was cut
            raise APIError(502, "upstream_error", _DROPPED)

    async def _finish_body(self, lines: AsyncIterator[str]) -> None:
        """Read the end of the body after [DONE], so that the connection goes back to the
        pool for the next message instead of being closed (a new connection per message
        cost us more CPU than anything in our own code, and a TLS handshake upstream)."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(0.5):
                async for _ in lines:
                    pass

    async def aclose(self) -> None:
        await self._manager.__aexit__(None, None, None)


class OpenAIProvider:
    name = "openai"
    prompt_style: PromptStyle = "chat"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = settings.model
        self._client: AsyncOpenAI | None = None

    async def startup(self) -> None:
        self._client = AsyncOpenAI(
            # The SDK insists on a key; servers like vLLM or Ollama ignore it.
            api_key=self.settings.openai_api_key or "unused",
            base_url=self.settings.openai_base_url,
            # We retry ourselves (see open): the SDK would also retry a 429, sleeping out its
            # Retry-After while the user waits to be told "busy".
            max_retries=0,
            timeout=self.settings.generation_timeout_s,
            # Keep a connection for every stream that may run at once (the SDK keeps 100).
            http_client=openai.DefaultAsyncHttpxClient(
                limits=Limits(
                    max_connections=None, max_keepalive_connections=1000, keepalive_expiry=30
                )
            ),
        )

    async def shutdown(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def open(self, prompt: Prompt) -> OpenAIGeneration:
        if self._client is None:
            raise RuntimeError("OpenAIProvider.startup() was not awaited")
        attempt = 0
        while True:
            try:
                manager = self._client.chat.completions.with_streaming_response.create(
                    model=self.model,
                    messages=cast("list[ChatCompletionMessageParam]", prompt.messages),
                    max_tokens=prompt.max_tokens,
                    stream=True,
                    stream_options={"include_usage": True},
                )
                response = await manager.__aenter__()
                return OpenAIGeneration(response, manager)
            except (openai.APIConnectionError, openai.InternalServerError) as exc:
                # Nothing has reached the client yet, so a transient failure may be retried.
                if attempt >= self.settings.upstream_max_retries:
                    raise upstream_error(exc) from exc
                await asyncio.sleep(0.25 * 2**attempt)
                attempt += 1
            except Exception as exc:
                raise upstream_error(exc) from exc
