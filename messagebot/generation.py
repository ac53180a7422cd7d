"""One message being written: deadlines, its text (`text/pipeline.py`), and the order of events.

The provider is read by a producer task that puts events on a queue; the response reads the
queue. So deadlines run inside one task, heartbeats never interrupt a read from the upstream,
and a client leaving cancels the producer, which closes the upstream in its `finally`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from . import metrics
from .config import Settings
from .errors import APIError, ErrorCode
from .providers import Generation, Provider
from .request import MessageRequest
from .stats import DUPLICATE, Stats, tokens
from .text.language import language_name
from .text.pipeline import MessageText
from .text.prompts import Prompt, build_prompt

log = logging.getLogger("messagebot.generation")


@dataclass(frozen=True, slots=True)
class Start:
    id: str
    model: str
    provider: str
    language: str
    n: int = 1


@dataclass(frozen=True, slots=True)
class Delta:
    text: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class Done:
    id: str
    message: str
    length: int
    finish_reason: str
    usage: dict[str, Any] | None
    index: int = 0
    #: Who wrote it: with fallback upstreams, each of `n` messages may come from another.
    provider: str = ""
    model: str = ""


@dataclass(frozen=True, slots=True)
class Failure:
    code: ErrorCode
    message: str
    index: int = 0


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Nothing has been sent for a heartbeat's time: send a `: ping` comment."""


HEARTBEAT = Heartbeat()

Event = Delta | Done | Failure


class Tally:
    """Counts one request's messages, each once, under its provider and its client's name
    (`/metrics` and `/v1/stats`): a message of `n` as one, whatever its outcome."""

    def __init__(self, service: GenerationService, client: str) -> None:
        self._service = service
        self.provider = service.provider.name
        if client not in service.key_names:  # names come from the settings only
            log.error("a client name that is not configured: counted as other")
            client = "other"
        self.client = client

    async def refused(self, outcome: str) -> None:
        """A message the provider did not accept (none begun): /v1/stats only."""
        await self._service.stats.record(self.provider, outcome, self.client)

    async def ended(
        self, outcome: str, usage: dict[str, Any] | None, provider: str | None = None
    ) -> None:
        """A message that ended (its `done`, its `error`, the client leaving), or one dropped
        unseen as a duplicate (`DUPLICATE`): its outcome and the tokens it cost, under the
        provider that wrote it (with fallbacks, maybe not the primary)."""
        provider = provider or self.provider
        metrics.MESSAGES.labels(provider, outcome).inc()
        metrics.KEY_MESSAGES.labels(self.client, outcome).inc()
        completion = tokens(usage, "completion_tokens")
        if completion:
            metrics.TOKENS.labels(provider).inc(completion)
            metrics.KEY_TOKENS.labels(self.client, "completion").inc(completion)
        prompt = tokens(usage, "prompt_tokens")
        if prompt:
            metrics.KEY_TOKENS.labels(self.client, "prompt").inc(prompt)
        await self._service.stats.record(provider, outcome, self.client, usage)


class GenerationService:
    """The app's generations: starts each (provider, prompt, deadlines, counters), keeps those
    in flight, and ends them at shutdown."""

    def __init__(self, provider: Provider, settings: Settings, stats: Stats) -> None:
        self.provider = provider
        self.settings = settings
        self.stats = stats
        #: The names messages are counted under: each key's, `page` and `anonymous`.
        self.key_names = frozenset(settings.api_key_names) | {"page", "anonymous"}
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

    async def begin(
        self, request: MessageRequest, language: str, client: str = "anonymous"
    ) -> MessageStream | Choices:
        """Return once the provider accepted the request; raise APIError (no stream) if not.
        Its messages are counted under `client` (web/security.py's client_name()).

        With `n` > 1, the messages are asked for side by side (`Choices`): first in one
        upstream request with `n`; an index the upstream does not send (llama.cpp's server and
        Ollama ignore `n`) is asked for on its own with its own seed, and once an upstream is
        known to ignore `n`, every message is (bench/choices.py)."""
        if self.shutting_down:
            raise APIError(ErrorCode.SERVER_SHUTDOWN, retry_after=5)
        check_language(self.provider, request, language)
        # A new request shows a base model other examples ("Write another", issue 26); with
        # MESSAGEBOT_LOCAL_SEED set, the same ones every time (reproducible runs).
        seed = self.settings.local_seed
        variant = secrets.randbits(32) if seed is None else seed
        # A fallback chain builds one prompt per style its upstreams read (providers/fallback.py).
        build = getattr(self.provider, "build_prompt", None)
        prompt: Prompt = (
            build(request, language, variant)
            if build is not None
            else build_prompt(request, language, self.provider.prompt_style, variant)
        )
        start = Start(
            id=f"msg_{secrets.token_urlsafe(12)}",
            model=self.provider.model,
            provider=self.provider.name,
            language=language,
            n=request.n,
        )
        tally = Tally(self, client)
        if request.n == 1:
            return await self.open_stream(start, prompt, request.max_length, tally=tally)
        return await Choices.begin(self, start, prompt, request.max_length, tally)

    async def open_stream(
        self,
        start: Start,
        prompt: Prompt,
        max_length: int,
        index: int = 0,
        seed: int | None = None,
        *,
        tally: Tally | None,
    ) -> MessageStream:
        """One message: return once the provider accepted it; raise APIError if not. With
        `tally`, the message counts itself; without, its owner (`Choices`) counts it."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        # The fallback chain bounds the first token itself: a hang it cuts at the deadline must
        # count against that upstream's breaker, which a cancel from out here would not.
        bounded = getattr(self.provider, "bounds_first_token", False)
        try:
            async with asyncio.timeout(None if bounded else self.settings.first_token_timeout_s):
                generation = await (
                    self.provider.open(prompt) if seed is None else self.provider.open(prompt, seed)
                )
        except TimeoutError:
            if tally is not None:
                await tally.refused(ErrorCode.UPSTREAM_TIMEOUT)
            raise APIError(ErrorCode.UPSTREAM_TIMEOUT) from None
        except APIError as error:
            if tally is not None:
                await tally.refused(error.code)
            raise
        # With fallbacks, the upstream that wrote its first piece (providers/fallback.py).
        written_by: tuple[str, str] | None = getattr(generation, "written_by", None)
        if written_by is not None:
            start = dataclasses.replace(start, provider=written_by[0], model=written_by[1])
        return MessageStream(self, start, generation, max_length, started, index, tally)


def check_language(provider: Provider, request: MessageRequest, language: str) -> None:
    """Refuse a language the provider's model cannot write (a 422 naming `language`), whether
    the request named it or it was detected from the fields: never English labelled `ja`."""
    writes = provider.languages
    primary = language.split("-")[0]
    if writes is None or primary in writes:
        return
    known = ", ".join(f"{tag} ({language_name(tag)})" for tag in sorted(writes))
    how = "asked for" if request.language else "detected from the fields"
    raise APIError(
        ErrorCode.INVALID_REQUEST,
        f"This server's model ({provider.model}) writes only {known}; "
        f"{language_name(language)} ({language}, {how}) is not one of them.",
        fields={"language": f"this model writes only {known}"},
    )


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
        index: int = 0,
        tally: Tally | None = None,
    ) -> None:
        self.start = start
        self.index = index
        self._tally = tally  # None: counted by its owner (Choices)
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
        self._finished = False  # _finish() has begun: the message is closed and counted once
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
            await self._finish(outcome)
        self._put(terminal)

    async def _finish(self, outcome: str) -> None:
        """Close the generation and count the message: once, from `_produce`'s `finally`, or
        from `aclose()` when the producer was cancelled before it ever ran."""
        if self._finished:
            return
        self._finished = True
        with contextlib.suppress(Exception):
            await self._generation.aclose()
        outcome = self._interrupted or outcome
        self.outcome, self.usage = outcome, self._generation.usage
        self._service.active.discard(self)
        metrics.STREAMS.dec()
        if self._tally is not None:
            await self._tally.ended(outcome, self.usage, self.start.provider)

    def _emit(self, text: str, parts: list[str]) -> None:
        if text:
            parts.append(text)
            self._put(Delta(text, self.index))

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
                self.index,
            )
        except APIError as error:
            return Failure(error.code, error.message, self.index)
        except Exception:
            log.exception("generation failed")
            return Failure(
                ErrorCode.UPSTREAM_ERROR, "The message could not be written.", self.index
            )
        message = "".join(parts)
        if not message:
            # SPEC: a message with no text is not a message ([DONE] at once, or a reply that
            # was all wrapping), and is counted as the failure it is.
            return Failure(
                ErrorCode.UPSTREAM_ERROR, "The model's reply had no message in it.", self.index
            )
        return Done(
            self.start.id,
            message,
            len(message),
            "length" if self._text.cut else "stop",
            self._generation.usage,
            self.index,
            self.start.provider,
            self.start.model,
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
                    item = Delta("".join(texts), item.index)
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
            self._put(dataclasses.replace(failure, index=self.index))
            self._task.cancel()

    async def aclose(self) -> None:
        """Stop the generation now (a no-op once it has finished)."""
        if not self._task.done():
            self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if not self._finished:
            # Cancelled before its first step (closed in the step it was opened): the
            # coroutine never ran, nor its `finally`.
            await self._finish("cancelled")

    async def result(self) -> Done | Failure:
        """Wait for the whole message (the JSON endpoint)."""
        async for item in self.events():
            if isinstance(item, Done | Failure):
                return item
        raise RuntimeError("generation ended without an outcome")


#: How many times one index of `n` is asked again when it came back the same text as another.
MAX_DUPLICATE_RETRIES = 2


class _Choice:
    """What `Choices` knows of one index: its text so far (sent or held back), how much of it
    has gone out, and how it ended."""

    __slots__ = ("done", "ended", "generation", "order", "retries", "sent", "stream", "text")

    def __init__(self, order: int) -> None:
        self.generation = 0  # bumped when the index is asked again: older events are stale
        self.order = order  # a later order gives way to an earlier one when they are alike
        self.text = ""
        self.sent = 0
        self.done: Done | None = None  # its Done, once written (sent, or held back)
        self.ended: Done | Failure | None = None  # what the client was told last
        self.retries = 0
        self.stream: MessageStream | None = None


async def _close_opened(opening: Sequence[asyncio.Future[MessageStream]]) -> None:
    """Wait for cancelled openings to end, and close each that had opened all the same."""
    await asyncio.wait(opening)
    for task in opening:
        if not task.cancelled() and task.exception() is None:
            await task.result().aclose()


class Choices:
    """A request's `n` messages written side by side, one `MessageStream` each, read as one
    series of events that name their index (docs/api.md, "The stream").

    The messages are never the same text twice. While one message's text could still turn out
    the same as another's (one is a prefix of the other), the later one (by `order`) is held
    back; once they differ it goes out. One that ends the same as another is discarded, never
    shown, and asked again with another seed, up to MAX_DUPLICATE_RETRIES times; then that
    index ends with an `upstream_error`. So each index's deltas still add up to its `done`."""

    def __init__(
        self,
        service: GenerationService,
        start: Start,
        prompt: Prompt,
        max_length: int,
        tally: Tally,
    ):
        self.start = start
        self._service = service
        # Each index is counted once, as it ends for the client (its streams do not count
        # themselves); a message dropped as a duplicate is counted as `duplicate`.
        self._tally = tally
        #: Counts decided while events were being sorted out, made by _settle(): (outcome,
        #: usage, whether a generation had begun).
        self._counts: list[tuple[str, dict[str, Any] | None, bool, str | None]] = []
        self._prompt = prompt
        self._max_length = max_length
        # The embedded model is reproducible with MESSAGEBOT_LOCAL_SEED: message i starts from
        # it + i. Otherwise every request draws its own, so "Write another" asks anew.
        fixed = service.settings.local_seed if service.provider.name == "local" else None
        self._seed = secrets.randbelow(2**30) if fixed is None else fixed
        self._next_seed = self._seed + start.n
        self._choices = [_Choice(i) for i in range(start.n)]
        self._next_order = start.n
        self._queue: asyncio.Queue[tuple[int, int, Event]] = asyncio.Queue()
        self._pumps: set[asyncio.Task[None]] = set()
        self._closed = False

    @classmethod
    async def begin(
        cls,
        service: GenerationService,
        start: Start,
        prompt: Prompt,
        max_length: int,
        tally: Tally,
    ) -> Choices:
        """Ask for all `n` at once; return once at least one was accepted (the others then
        end with their error at once); raise the first's APIError when none was."""
        self = cls(service, start, prompt, max_length, tally)
        if await self._begin_together():
            return self
        opening = [
            asyncio.ensure_future(
                service.open_stream(
                    start, prompt, max_length, index, self._seed + index, tally=None
                )
            )
            for index in range(start.n)
        ]
        try:
            await asyncio.wait(opening)
        except BaseException:  # the client left while we waited: close what was opened
            for task in opening:
                task.cancel()
            # Shielded: a second cancellation (the server cancels a request task more than
            # once when its client is gone) must not leave an opened upstream request behind.
            cleanup = asyncio.ensure_future(_close_opened(opening))
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(cleanup)
            raise
        errors = [task.exception() for task in opening]
        if all(errors):
            for error in errors:  # each message counts
                await tally.refused(
                    error.code if isinstance(error, APIError) else ErrorCode.UPSTREAM_ERROR
                )
            first = errors[0]
            assert first is not None
            raise first
        opened = next(
            task.result() for task, error in zip(opening, errors, strict=True) if error is None
        )
        # `start` names the first opened message's writer (each `done` names its own).
        self.start = dataclasses.replace(
            self.start, provider=opened.start.provider, model=opened.start.model
        )
        for index, (task, error) in enumerate(zip(opening, errors, strict=True)):
            if error is None:
                self._pump(index, task.result())
            else:
                code, message = (
                    (error.code, error.message)
                    if isinstance(error, APIError)
                    else (ErrorCode.UPSTREAM_ERROR, "The message could not be written.")
                )
                if not isinstance(error, APIError):
                    log.error("opening message %d failed", index, exc_info=error)
                self._queue.put_nowait((index, 0, Failure(code, message, index)))
        return self

    async def _begin_together(self) -> bool:
        """All `n` from one upstream request, where the provider can (an OpenAI-compatible
        upstream not yet known to ignore `n`); False to ask for each on its own."""
        service, n = self._service, self.start.n
        open_many = getattr(service.provider, "open_many", None)
        if open_many is None:
            return False
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(service.settings.first_token_timeout_s):
                generations = await open_many(self._prompt, n, self._seed)
        except (TimeoutError, APIError) as error:
            code = error.code if isinstance(error, APIError) else ErrorCode.UPSTREAM_TIMEOUT
            for _ in range(n):  # each message counts
                await self._tally.refused(code)
            if isinstance(error, APIError):
                raise
            raise APIError(ErrorCode.UPSTREAM_TIMEOUT) from None
        if generations is None:
            return False
        assert len(generations) == n, "one generation per index"
        for index, generation in enumerate(generations):
            stream = MessageStream(
                service, self.start, generation, self._max_length, started, index
            )
            self._pump(index, stream)
        return True

    def _pump(self, index: int, stream: MessageStream) -> None:
        choice = self._choices[index]
        choice.stream = stream
        generation = choice.generation

        async def pump() -> None:
            async for item in stream.events():
                if isinstance(item, Delta | Done | Failure):
                    self._queue.put_nowait((index, generation, item))

        task = asyncio.ensure_future(pump())
        self._pumps.add(task)
        task.add_done_callback(self._pumps.discard)

    def _ask_again(self, index: int) -> Failure | None:
        """Discard index's message (it came out the same as another) and ask for another;
        a Failure once it has been asked MAX_DUPLICATE_RETRIES times."""
        choice = self._choices[index]
        if choice.retries >= MAX_DUPLICATE_RETRIES:
            log.warning(
                "message %d of %d: the same text again after %d tries",
                index,
                self.start.n,
                choice.retries + 1,
            )
            return Failure(
                ErrorCode.UPSTREAM_ERROR,
                "The model wrote the same message as another one of this request.",
                index,
            )
        # Not a message the client gets: counted as what it is, with the tokens it cost.
        dropped = choice.stream
        self._counts.append(
            (
                DUPLICATE,
                dropped.usage if dropped else None,
                True,
                dropped.start.provider if dropped else None,
            )
        )
        choice.stream = None  # done: its pump has ended with its Done
        choice.retries += 1
        choice.generation += 1
        choice.order, self._next_order = self._next_order, self._next_order + 1
        choice.text, choice.sent, choice.done = "", 0, None
        seed, self._next_seed = self._next_seed, self._next_seed + 1
        generation = choice.generation
        # A provider that judges as it writes (the embedded model) is told what the others
        # said: a formulaic request ("할머니, 새해 복 많이 받으세요.") came back the same from
        # any seed (the hand read of issue 26: 7 of 108 requests lost a message so).
        said = tuple(other.text for other in self._choices if other is not choice and other.text)
        prompt = dataclasses.replace(self._prompt, avoid=said)

        async def reopen() -> None:
            try:
                stream = await self._service.open_stream(
                    self.start, prompt, self._max_length, index, seed, tally=None
                )
            except APIError as error:
                self._queue.put_nowait(
                    (index, generation, Failure(error.code, error.message, index))
                )
                return
            except Exception:
                # Never leave the index without an end: the request would wait for it forever.
                log.exception("asking again for a message failed")
                failure = Failure(
                    ErrorCode.UPSTREAM_ERROR, "The message could not be written.", index
                )
                self._queue.put_nowait((index, generation, failure))
                return
            if self._closed:
                await stream.aclose()
                return
            self._pump(index, stream)

        task = asyncio.ensure_future(reopen())
        self._pumps.add(task)
        task.add_done_callback(self._pumps.discard)
        return None

    def _alike(self, choice: _Choice) -> _Choice | None:
        """An earlier message that this one could still turn out the same as, if any."""
        for other in self._choices:
            if other.order >= choice.order or isinstance(other.ended, Failure):
                continue
            if other.text.startswith(choice.text):
                if other.done and choice.done and other.text != choice.text:
                    continue  # both whole, one the start of the other: not the same
                return other
            if choice.text.startswith(other.text) and other.done is None:
                return other
        return None

    def _release(self) -> list[Event]:
        """What can go out now: text no longer alike any other's, ends no longer pending."""
        out: list[Event] = []
        for index, choice in sorted(enumerate(self._choices), key=lambda pair: pair[1].order):
            if choice.ended is not None:
                continue
            other = self._alike(choice)
            if other is None:
                if len(choice.text) > choice.sent:
                    out.append(Delta(choice.text[choice.sent :], index))
                    choice.sent = len(choice.text)
                if choice.done is not None:
                    self._end(choice, choice.done)
                    out.append(choice.done)
            elif choice.done is not None and other.done is not None:
                assert other.text == choice.text, "alike and both done means the same"
                failure = self._ask_again(index)
                if failure is not None:
                    self._end(choice, failure)
                    out.append(failure)
        return out

    def _end(self, choice: _Choice, ended: Done | Failure) -> None:
        """What the client is told last of this index, and its count."""
        choice.ended = ended
        outcome = ended.finish_reason if isinstance(ended, Done) else ended.code
        stream = choice.stream
        self._counts.append(
            (
                outcome,
                stream.usage if stream else None,
                stream is not None,
                stream.start.provider if stream else None,
            )
        )

    async def _settle(self) -> None:
        """Make the counts decided so far."""
        while self._counts:
            outcome, usage, begun, provider = self._counts.pop(0)
            if begun:
                await self._tally.ended(outcome, usage, provider)
            else:  # never accepted upstream: counted as a refusal is (open_stream)
                await self._tally.refused(outcome)

    def _take(self, index: int, generation: int, item: Event) -> list[Event]:
        choice = self._choices[index]
        if generation != choice.generation or choice.ended is not None:
            return []  # from a message that was discarded
        if isinstance(item, Delta):
            choice.text += item.text
        elif isinstance(item, Done):
            assert item.message == choice.text, "a message's deltas add up to its done"
            choice.done = item
        else:
            self._end(choice, item)
            return [item, *self._release()]  # one that was alike it need not wait any more
        return self._release()

    async def events(
        self, heartbeat: float | None = None, coalesce: bool = False
    ) -> AsyncIterator[Event | Heartbeat]:
        """Every index's events (deltas, then its `Done` or `Failure`), with a `Heartbeat` in
        every silence, until each index has ended."""
        del coalesce  # each message's own stream merges what is ready together
        loop = asyncio.get_running_loop()
        # A heartbeat is due `heartbeat` after the client was last sent something: an item
        # that sends nothing (a message held back while alike another, a discarded one's)
        # must not put it off.
        sent_at = loop.time()
        try:
            while any(choice.ended is None for choice in self._choices):
                try:
                    async with asyncio.timeout_at(
                        None if heartbeat is None else sent_at + heartbeat
                    ):
                        index, generation, item = await self._queue.get()
                except TimeoutError:
                    sent_at = loop.time()
                    yield HEARTBEAT
                    continue
                events = self._take(index, generation, item)
                await self._settle()
                for event in events:
                    sent_at = loop.time()
                    yield event
        finally:
            await self.aclose()

    async def results(self) -> list[Done | Failure]:
        """Wait for every message (the JSON endpoint), in index order."""
        async for _ in self.events():
            pass
        ended = [choice.ended for choice in self._choices]
        assert all(ended), "every index ends"
        return ended  # type: ignore[return-value]

    async def result(self) -> Done | Failure:
        """The first message (for callers that take one)."""
        return (await self.results())[0]

    async def aclose(self) -> None:
        """Stop every message's generation now (and their upstream requests)."""
        closing, self._closed = not self._closed, True
        pumps = list(self._pumps)
        for task in pumps:
            task.cancel()
        if pumps:
            await asyncio.wait(pumps)
        for choice in self._choices:
            if choice.stream is not None:
                await choice.stream.aclose()
        if closing:  # the client left before these ended: each counts as `cancelled`
            for choice in self._choices:
                if choice.ended is None:
                    stream = choice.stream
                    self._counts.append(
                        (
                            "cancelled",
                            stream.usage if stream else None,
                            # Begun even without a stream (one being asked again after a
                            # duplicate): counted in /metrics as in /v1/stats.
                            True,
                            stream.start.provider if stream else None,
                        )
                    )
            await self._settle()

    # What the request log reads of a stream: the first message's.
    @property
    def outcome(self) -> str | None:
        stream = self._choices[0].stream
        return stream.outcome if stream is not None else None

    @property
    def usage(self) -> dict[str, Any] | None:
        stream = self._choices[0].stream
        return stream.usage if stream is not None else None

    @property
    def error(self) -> ErrorCode | None:
        ended = self._choices[0].ended
        return ended.code if isinstance(ended, Failure) else None
