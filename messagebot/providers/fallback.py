"""Fallback upstreams: the next one is asked when the one before fails before its first token.

docs/api.md, "Upstreams that fail", is the contract. An upstream is asked with the rest of the
request's first-token deadline or MESSAGEBOT_ATTEMPT_TIMEOUT_S, whichever ends first (the
last one in the chain gets the rest of the deadline), and `open` returns only once it has
written its first piece of text: so a failure before that (unreachable, 5xx, 429, 401/403, a
stream cut, silent or ended before its first token) goes to the next one, and nothing of a message
reaches the client before its writer is known (`start` names it). After the first piece there
is no fallback: a failure ends the message with `event: error`. A 400 (the prompt refused) is
final: `rejected_by_model`, no other upstream asked.

Each upstream has a circuit breaker, in this process (every worker and dyno keeps its own):
after `breaker_failures` failures in a row it is skipped for `breaker_cooldown_s`, then one
request at a time is let through to try it (half-open) until one succeeds (closed again) or
fails (skipped for another cool-down). So while an upstream is down, requests do not each pay
its timeout, and a burst of parallel requests sends it one trial, not one each.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from ..config import Settings
from ..errors import APIError, ErrorCode
from ..request import MessageRequest
from ..text.prompts import Prompt, PromptStyle, build_prompt
from .base import Generation, Provider

log = logging.getLogger("messagebot.fallback")

State = Literal["ok", "failing"]
Pass = Literal["closed", "trial"] | None


class Breaker:
    """One upstream's circuit breaker: closed (asked), open (skipped), half-open (one trial)."""

    def __init__(
        self, failures: int, cooldown_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold, self.cooldown_s, self._clock = failures, cooldown_s, clock
        self.failures = 0  # in a row
        self.opened_at: float | None = None  # when it was last opened; None while closed
        self.trial = False  # a half-open trial is in flight

    def allow(self) -> Pass:
        """Whether to ask this upstream now: None (skip it), "closed" (ask it), or "trial"
        (half-open: the caller is its one trial and must then call succeeded, failed or
        abandoned with trial=True; only the trial's own request ends the trial)."""
        if self.opened_at is None:
            return "closed"
        if self.trial or self._clock() - self.opened_at < self.cooldown_s:
            return None
        self.trial = True
        return "trial"

    def succeeded(self) -> None:
        self.failures, self.opened_at, self.trial = 0, None, False

    def failed(self, trial: bool) -> None:
        self.failures += 1
        if trial:
            self.trial = False
        if self.failures >= self.threshold:
            self.opened_at = self._clock()  # (again: a failed trial starts a new cool-down)

    def abandoned(self, trial: bool) -> None:
        """The request left before a verdict (its client went); a request let through while
        closed and still in flight leaves another's half-open trial alone."""
        if trial:
            self.trial = False

    @property
    def state(self) -> State:
        """`failing` since its last request failed, `ok` otherwise (/healthz)."""
        return "failing" if self.failures else "ok"


class _Written:
    """A generation whose first piece has been read (to know the upstream can write), with
    the name of the provider and model that write it."""

    def __init__(
        self,
        generation: Generation,
        pieces: AsyncIterator[str],
        first: str,
        provider: str,
        model: str,
    ) -> None:
        self._generation, self._pieces = generation, pieces
        self._first: str | None = first
        self.written_by = (provider, model)

    @property
    def usage(self) -> dict[str, Any] | None:
        return self._generation.usage

    @usage.setter
    def usage(self, value: dict[str, Any] | None) -> None:
        self._generation.usage = value

    async def pieces(self) -> AsyncIterator[str]:
        if self._first is not None:  # (None once given out: pieces() is read once)
            first, self._first = self._first, None
            yield first
        async for piece in self._pieces:
            yield piece

    async def aclose(self) -> None:
        try:
            await self._pieces.aclose()  # type: ignore[attr-defined]
        finally:
            await self._generation.aclose()


@dataclass(frozen=True)
class StyledPrompt(Prompt):
    """The primary's prompt, with the same request's prompt in the other style (a base model
    in the chain reads a few-shot text, an instruction-tuned one chat messages)."""

    others: dict[PromptStyle, Prompt] = field(default_factory=dict)
    #: The request's language: an upstream whose model cannot write it is not asked.
    language: str = ""

    def for_style(self, style: PromptStyle) -> Prompt:
        return self.others.get(style, self)


def writes(provider: Provider, prompt: Prompt) -> bool:
    """Whether `provider`'s model writes the language `prompt` is in (unknown: yes)."""
    language = prompt.language.split("-")[0] if isinstance(prompt, StyledPrompt) else ""
    return not language or provider.languages is None or language in provider.languages


class FallbackProvider:
    """The primary and its fallbacks, as one Provider (name and model: the primary's)."""

    #: open() enforces the request's first-token deadline itself (GenerationService.open_stream
    #: does not also cut it): an attempt cut by the deadline is that upstream's failure.
    bounds_first_token = True

    def __init__(self, settings: Settings, chain: Sequence[Provider]) -> None:
        assert len(chain) >= 2, "a fallback chain has a primary and at least one fallback"
        self.settings = settings
        self.chain = list(chain)
        self.breakers = [
            Breaker(settings.breaker_failures, settings.breaker_cooldown_s) for _ in chain
        ]
        self.name, self.model = chain[0].name, chain[0].model
        self.prompt_style: PromptStyle = chain[0].prompt_style  # known once started
        self.languages = self._languages()

    def _languages(self) -> frozenset[str] | None:
        """What some upstream of the chain writes (None: every language); open() asks only
        the upstreams that write the request's."""
        if any(provider.languages is None for provider in self.chain):
            return None
        return frozenset().union(*(provider.languages or () for provider in self.chain))

    def build_prompt(
        self, request: MessageRequest, language: str, variant: int | None = None
    ) -> Prompt:
        """The request's prompt for the primary, and for any upstream of another style."""
        styles = {provider.prompt_style for provider in self.chain} - {self.prompt_style}
        prompt = build_prompt(request, language, self.prompt_style, variant)
        return StyledPrompt(
            **{item.name: getattr(prompt, item.name) for item in fields(prompt)},
            others={style: build_prompt(request, language, style, variant) for style in styles},
            language=language,
        )

    async def startup(self) -> None:
        for provider in self.chain:
            await provider.startup()
        self.prompt_style = self.chain[0].prompt_style
        self.languages = self._languages()  # a local model's are known once it is loaded

    async def shutdown(self) -> None:
        for provider in reversed(self.chain):
            await provider.shutdown()

    def health(self) -> list[dict[str, str]]:
        """Each upstream's model and state, in order: never a URL or a key."""
        return [
            {"model": provider.model, "state": breaker.state}
            for provider, breaker in zip(self.chain, self.breakers, strict=True)
        ]

    async def open(self, prompt: Prompt, seed: int | None = None) -> Generation:
        """The first upstream (in order, its breaker allowing) that writes a first piece."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.first_token_timeout_s
        last = len(self.chain) - 1
        error: APIError | None = None
        for index, (provider, breaker) in enumerate(zip(self.chain, self.breakers, strict=True)):
            if loop.time() >= deadline:  # the request's own deadline: no one else is asked
                raise APIError(ErrorCode.UPSTREAM_TIMEOUT)
            if not writes(provider, prompt):
                log.info(
                    "upstream %d (%s) skipped: it does not write this language",
                    index,
                    provider.model,
                )
                continue
            ticket = breaker.allow()
            if ticket is None:
                log.info("upstream %d (%s) skipped: its breaker is open", index, provider.model)
                continue
            own = prompt
            if isinstance(prompt, StyledPrompt):
                own = prompt.for_style(provider.prompt_style)
            until = deadline
            if index < last:
                until = min(deadline, loop.time() + self.settings.attempt_timeout_s)
            try:
                written = await self._attempt(provider, own, seed, until)
            except APIError as failure:
                if failure.code is ErrorCode.REJECTED_BY_MODEL:
                    breaker.succeeded()  # it answered: the prompt, not the upstream, is the fault
                    raise
                breaker.failed(ticket == "trial")
                log.warning(
                    "upstream %d (%s) failed before its first token (%s)%s",
                    index,
                    provider.model,
                    failure.code,
                    "" if index == last else "; asking the next",
                )
                error = failure
                continue
            except BaseException:
                breaker.abandoned(ticket == "trial")
                raise
            breaker.succeeded()
            return written
        if error is None:
            raise APIError(
                ErrorCode.UPSTREAM_ERROR,
                "Every language model service is failing; try again shortly.",
            )
        raise error

    async def _attempt(
        self, provider: Provider, prompt: Prompt, seed: int | None, until: float
    ) -> _Written:
        """Open `provider` and read its first piece of text by `until`; APIError if it fails
        (UPSTREAM_TIMEOUT at `until`)."""
        generation: Generation | None = None
        try:
            async with asyncio.timeout_at(until):
                generation = await (
                    provider.open(prompt) if seed is None else provider.open(prompt, seed)
                )
                pieces = generation.pieces()
                first = None
                async for piece in pieces:
                    if piece:
                        first = piece
                        break
                if first is None:  # [DONE] with no text: not a message, so a failure
                    raise APIError(
                        ErrorCode.UPSTREAM_ERROR, "The model's reply had no message in it."
                    )
        except BaseException as exc:
            if generation is not None:
                await _close(generation)
            if isinstance(exc, TimeoutError):
                raise APIError(
                    ErrorCode.UPSTREAM_TIMEOUT, "The language model did not start writing in time."
                ) from None
            if isinstance(exc, APIError | asyncio.CancelledError):
                raise
            if isinstance(exc, Exception):
                log.exception("upstream %s failed before its first token", provider.model)
                raise APIError(
                    ErrorCode.UPSTREAM_ERROR, "The language model service failed; try again."
                ) from exc
            raise
        return _Written(generation, pieces, first, provider.name, provider.model)


async def _close(generation: Generation) -> None:
    try:
        await generation.aclose()
    except Exception:
        log.exception("closing an upstream that failed")
