"""Any OpenAI-compatible upstream (OpenAI, vLLM, Ollama, llama.cpp's server) via the openai SDK."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator
from typing import Any, cast

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from ..config import Settings
from ..errors import APIError
from ..prompts import Prompt, PromptStyle

log = logging.getLogger("messagebot.openai")

DEFAULT_RETRY_AFTER = 5


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
    if isinstance(exc, openai.APIConnectionError):
        return APIError(
            502,
            "upstream_error",
            "The language model service is unreachable or dropped the connection.",
        )
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
    def __init__(self, stream: openai.AsyncStream[Any]) -> None:
        self._stream = stream
        self.usage: dict[str, Any] | None = None

    async def pieces(self) -> AsyncIterator[str]:
        try:
            async for chunk in self._stream:
                if chunk.usage is not None:
                    self.usage = {
                        "prompt_tokens": chunk.usage.prompt_tokens,
                        "completion_tokens": chunk.usage.completion_tokens,
                        "total_tokens": chunk.usage.total_tokens,
                    }
                if chunk.choices:
                    text = chunk.choices[0].delta.content
                    if text:
                        yield text
        except Exception as exc:
            raise upstream_error(exc) from exc

    async def aclose(self) -> None:
        await self._stream.close()


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
                stream = await self._client.chat.completions.create(
                    model=self.model,
                    messages=cast("list[ChatCompletionMessageParam]", prompt.messages),
                    max_tokens=prompt.max_tokens,
                    stream=True,
                    stream_options={"include_usage": True},
                )
                return OpenAIGeneration(stream)
            except (openai.APIConnectionError, openai.InternalServerError) as exc:
                # Nothing has reached the client yet, so a transient failure may be retried.
                if attempt >= self.settings.upstream_max_retries:
                    raise upstream_error(exc) from exc
                await asyncio.sleep(0.25 * 2**attempt)
                attempt += 1
            except Exception as exc:
                raise upstream_error(exc) from exc
