"""One message being written: deadlines, its text (`text/pipeline.py`), and the order of events.

The provider is read by a producer task that puts events on a queue; the response reads the
queue. So deadlines run inside one task, heartbeats never interrupt a read from the upstream,
and a client leaving cancels the producer, which closes the upstream in its `finally`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from . import metrics
from .config import Settings
from .errors import APIError, ErrorCode
from .providers import Generation, Provider
from .request import MessageRequest
from .stats import Stats
from .text.pipeline import MessageText
from .text.prompts import build_prompt

log = logging.getLogger("messagebot.generation")


@dataclass(frozen=True, slots=True)
class Start:
    id: str
    model: str
    provider: str
    language: str


@dataclass(frozen=True, slots=True)
class Delta:
    text: str


@dataclass(frozen=True, slots=True)
class Done:
    id: str
    message: str
    length: int
    finish_reason: str
    usage: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Failure:
    code: ErrorCode
    message: str


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Nothing has been sent for a heartbeat's time: send a `: ping` comment."""


HEARTBEAT = Heartbeat()

Event = Delta | Done | Failure


class GenerationService:
    """The app's generations: starts each (provider, prompt, deadlines, counters), keeps those
    in flight, and ends them at shutdown."""

    def __init__(self, provider: Provider, settings: Settings, stats: Stats) -> None:
        self.provider = provider
        self.settings = settings
        self.stats = stats
        #: Generations whose producer is still running (streams in flight).
        self.active: set[MessageStream] = set()
        self.shutting_down = False

    def begin_shutdown(self) -> None:
        """Let running generations finish within the grace period, then end the rest with a
        `server_shutdown` error; refuse new ones from now on."""
        if self.shutting_down:
            return
        self.shutting_down = True
        log.info(
            "shutting down: %d generation(s) in flight, %.0f s to finish",
            len(self.active),
            self.settings.shutdown_grace_s,
        )
        asyncio.get_running_loop().call_later(self.settings.shutdown_grace_s, self._interrupt_all)

    def _interrupt_all(self) -> None:
        for stream in list(self.active):
            stream.interrupt(
                Failure(ErrorCode.SERVER_SHUTDOWN, ErrorCode.SERVER_SHUTDOWN.default_message)
            )

    async def begin(self, request: MessageRequest, language: str) -> MessageStream:
        """Return once the provider accepted the request; raise APIError (no stream) if not."""
        if self.shutting_down:
            raise APIError(ErrorCode.SERVER_SHUTDOWN, retry_after=5)
        prompt = build_prompt(request, language, self.provider.prompt_style)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(self.settings.first_token_timeout_s):
                generation = await self.provider.open(prompt)
        except TimeoutError:
            await self.stats.record(self.provider.name, ErrorCode.UPSTREAM_TIMEOUT)
            raise APIError(ErrorCode.UPSTREAM_TIMEOUT) from None
        except APIError as error:
            await self.stats.record(self.provider.name, error.code)
            raise
        start = Start(
            id=f"msg_{secrets.token_urlsafe(12)}",
            model=self.provider.model,
            provider=self.provider.name,
            language=language,
        )
        return MessageStream(self, start, generation, request.max_length, started)


# The flush interval per open stream: 200 streams give 50 ms, 20 streams 5 ms (less than the
# usual gap between a model's tokens, so few streams are not coalesced at all).
_FLUSH_PER_STREAM_S = 0.00025


class _Ticker:
    """Wakes a stream's reader when it has sent nothing for `heartbeat` seconds."""

    def __init__(
        self, stream: MessageStream, loop: asyncio.AbstractEventLoop, heartbeat: float
    ) -> None:
        self._stream, self._loop, self._heartbeat = stream, loop, heartbeat
        self._handle = loop.call_at(stream._sent_at + heartbeat, self._tick)

    def _tick(self) -> None:
        due = self._stream._sent_at + self._heartbeat
        if self._loop.time() >= due:
            self._stream._wake()  # a no-op unless the reader is waiting for the model
            due = self._loop.time() + self._heartbeat
        self._handle = self._loop.call_at(due, self._tick)

    def stop(self) -> None:
        self._handle.cancel()


class MessageStream:
    """One accepted message as it is written: deltas, then `Done` or `Failure`. Read it with
    `events()` (which must be closed or exhausted) or `result()`."""

    def __init__(
        self,
        service: GenerationService,
        start: Start,
        generation: Generation,
        max_length: int,
        started: float,
    ) -> None:
        self.start = start
        self._service = service
        self._generation = generation
        self._text = MessageText(max_length)
        # A deque and a future rather than asyncio.Queue: the reader merges whatever is waiting.
        self._items: deque[Event] = deque()
        self._waiter: asyncio.Future[None] | None = None
        #: When the reader last sent something (for heartbeats and the flush interval).
        self._sent_at = started
        settings = service.settings
        self._started = started
        self._first_deadline = started + settings.first_token_timeout_s
        self._end_deadline = started + settings.generation_timeout_s
        #: How it ended (stop, length, cancelled, or an ErrorCode) and its token counts, once
        #: known.
        self.outcome: str | None = None
        self.usage: dict[str, Any] | None = None
        self._interrupted: ErrorCode | None = None
        self._task = asyncio.create_task(self._produce())
        service.active.add(self)
        metrics.STREAMS.inc()

    @property
    def error(self) -> ErrorCode | None:
        """The error that ended the message, if one did."""
        return self.outcome if isinstance(self.outcome, ErrorCode) else None

    def _put(self, item: Event) -> None:
        self._items.append(item)
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _produce(self) -> None:
        pieces = self._generation.pieces()
        outcome = "cancelled"  # the client left, unless interrupt() says otherwise
        try:
            terminal = await self._read(pieces)
            outcome = terminal.finish_reason if isinstance(terminal, Done) else terminal.code
        finally:
            # Close the upstream at once, also when the client left (we are being cancelled).
            with contextlib.suppress(Exception):
                await pieces.aclose()  # type: ignore[attr-defined]
                await self._generation.aclose()
            outcome = self._interrupted or outcome
            self.outcome, self.usage = outcome, self._generation.usage
            self._service.active.discard(self)
            metrics.STREAMS.dec()
            metrics.MESSAGES.labels(self.start.provider, outcome).inc()
            if self.usage and self.usage.get("completion_tokens"):
                metrics.TOKENS.labels(self.start.provider).inc(self.usage["completion_tokens"])
            await self._service.stats.record(self.start.provider, outcome)
        self._put(terminal)

    def _emit(self, text: str, parts: list[str]) -> None:
        if text:
            parts.append(text)
            self._put(Delta(text))

    async def _read(self, pieces: AsyncIterator[str]) -> Done | Failure:
        """Pass the pieces on as deltas, within the deadlines and the length limit."""
        parts: list[str] = []
        first = True
        try:
            async with asyncio.timeout_at(self._first_deadline) as deadline:
                async for piece in pieces:
                    if first:
                        first = False
                        deadline.reschedule(self._end_deadline)
                        metrics.FIRST_TOKEN.observe(
                            asyncio.get_running_loop().time() - self._started
                        )
                    self._emit(self._text.feed(piece), parts)
                    if self._text.cut:
                        break
                else:
                    self._emit(self._text.finish(), parts)
        except TimeoutError:
            return Failure(
                ErrorCode.UPSTREAM_TIMEOUT,
                "The model did not start writing in time."
                if first
                else "The message took too long to write.",
            )
        except APIError as error:
            return Failure(error.code, error.message)
        except Exception:
            log.exception("generation failed")
            return Failure(ErrorCode.UPSTREAM_ERROR, "The message could not be written.")
        message = "".join(parts)
        if not message:
            # SPEC: a message with no text is not a message ([DONE] at once, or a reply that
            # was all wrapping), and is counted as the failure it is.
            return Failure(ErrorCode.UPSTREAM_ERROR, "The model's reply had no message in it.")
        return Done(
            self.start.id,
            message,
            len(message),
            "length" if self._text.cut else "stop",
            self._generation.usage,
        )

    async def events(
        self, heartbeat: float | None = None, coalesce: bool = False
    ) -> AsyncIterator[Event | Heartbeat]:
        """Events until the one `Done` or `Failure`, with a `Heartbeat` in every silence.

        Deltas that are ready together come out as one. With `coalesce`, a delta that follows
        another waits out a flush interval that grows with the number of open streams (none
        when few are open; `MESSAGEBOT_MAX_FLUSH_S` at most), so that under load each write
        to the client carries several pieces. The first delta always goes out at once."""
        loop = asyncio.get_running_loop()
        items = self._items
        # One heartbeat timer per stream, moved along as we send, rather than a timeout
        # around every wait (that was a measurable cost per event under load).
        ticker = _Ticker(self, loop, heartbeat) if heartbeat is not None else None
        max_flush = self._service.settings.max_flush_s if coalesce else 0.0
        try:
            sent_delta = False
            while True:
                if not items:
                    self._waiter = loop.create_future()
                    try:
                        await self._waiter
                    finally:
                        self._waiter = None
                    if not items:  # the heartbeat ticker woke us
                        self._sent_at = loop.time()
                        yield HEARTBEAT
                        continue
                if sent_delta and max_flush and isinstance(items[0], Delta):
                    flush = min(max_flush, len(self._service.active) * _FLUSH_PER_STREAM_S)
                    wait = self._sent_at + flush - loop.time()
                    if wait > 0.001:
                        await asyncio.sleep(wait)
                item = items.popleft()
                if isinstance(item, Delta) and items and isinstance(items[0], Delta):
                    texts = [item.text]
                    while items and isinstance(items[0], Delta):
                        texts.append(items.popleft().text)  # type: ignore[union-attr]
                    item = Delta("".join(texts))
                self._sent_at = loop.time()
                yield item
                if not isinstance(item, Delta):
                    return
                sent_delta = True
        finally:
            if ticker is not None:
                ticker.stop()
            await self.aclose()

    def interrupt(self, failure: Failure) -> None:
        """End the stream with `failure` and stop the generation."""
        if not self._task.done():
            self._interrupted = failure.code
            self._put(failure)
            self._task.cancel()

    async def aclose(self) -> None:
        """Stop the generation now (a no-op once it has finished)."""
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    async def result(self) -> Done | Failure:
        """Wait for the whole message (the JSON endpoint)."""
        async for item in self.events():
            if isinstance(item, Done | Failure):
                return item
        raise RuntimeError("generation ended without an outcome")
