"""Any OpenAI-compatible upstream (OpenAI, vLLM, Ollama, llama.cpp's server) via the openai SDK."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import openai
from multidict import CIMultiDictProxy
from openai import AsyncOpenAI
from yarl import URL

from ..config import Settings
from ..errors import APIError, ErrorCode
from ..text.prompts import Prompt, PromptStyle
from ..text.sanitise import sanitise
from .sse_lines import SSELines
from .transport import Upstream

log = logging.getLogger("messagebot.openai")

DEFAULT_RETRY_AFTER = 5  # seconds, when the upstream's 429 gives no usable Retry-After
MAX_RETRY_AFTER = 600  # the most we pass on: a client told "hours" would give up on us
_DELAY_SECONDS = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_DROPPED = "The language model service is unreachable or dropped the connection."
_loads = json.loads
# Compact JSON, UTF-8 as it is: one encoder (json.dumps with options makes one per call).
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def parse_retry_after(raw: str | None, *, now: datetime | None = None) -> int:
    """An upstream's Retry-After as whole seconds for ours, from 1 to MAX_RETRY_AFTER.

    RFC 9110 allows delay-seconds (digits) or an HTTP-date; a decimal (`1.5`, which some
    servers send) is rounded up. Anything else, `inf`, `nan`, `1e400`, `-5` or garbage
    included, gets DEFAULT_RETRY_AFTER: never an exception (a 500 instead of `busy`)."""
    text = (raw or "").strip()
    number = _DELAY_SECONDS.fullmatch(text)
    if number:
        whole, fraction = number.group(1).lstrip("0"), number.group(2) or ""
        # Digits, not float(): no overflow however long the number (nor int()'s digit limit).
        if len(whole) > len(str(MAX_RETRY_AFTER)):
            return MAX_RETRY_AFTER
        seconds = int(whole or "0") + (1 if fraction.strip("0") else 0)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return DEFAULT_RETRY_AFTER
        if when.tzinfo is None:  # RFC 9110: an HTTP-date is in GMT
            when = when.replace(tzinfo=UTC)
        seconds = math.ceil((when - (now or datetime.now(UTC))).total_seconds())
    return max(1, min(MAX_RETRY_AFTER, seconds))


def status_error(status: int, headers: CIMultiDictProxy[str]) -> APIError:
    """The one table from an upstream's error status to our error (docs/api.md, "Errors")."""
    if status == 429:
        return APIError(
            ErrorCode.BUSY,
            "The language model service is busy; try again shortly.",
            retry_after=parse_retry_after(headers.get("retry-after")),
        )
    if status == 400:
        return APIError(ErrorCode.REJECTED_BY_MODEL)
    if status in (401, 403):
        log.error("upstream refused our credentials (HTTP %d)", status)
        return APIError(
            ErrorCode.UPSTREAM_ERROR, "The language model service refused our credentials."
        )
    return APIError(ErrorCode.UPSTREAM_ERROR, f"The language model service failed (HTTP {status}).")


_NOT_STREAMS = frozenset({"application/json", "text/html"})
_MAX_NOT_STREAM = 64 * 1024  # of such a body, read for its error message


async def _read_bounded(response: aiohttp.ClientResponse) -> bytes:
    """At most _MAX_NOT_STREAM bytes of a body that is not a stream (an error answer, a JSON
    page): an upstream's error answer is read for its message, never whole into memory."""
    body = bytearray()
    while len(body) < _MAX_NOT_STREAM and (
        data := await response.content.read(_MAX_NOT_STREAM - len(body))
    ):
        body += data
    return bytes(body)


async def _not_a_stream(response: aiohttp.ClientResponse) -> APIError:
    """A 2xx that is not an event stream (a JSON answer or a web page: a proxy, or a base URL
    that is not the API), told as what it is, with the JSON's own error message if it has
    one, rather than as a dropped connection once `start` has gone out."""
    kind = "JSON" if "json" in response.content_type else response.content_type
    detail = ""
    try:
        body = await _read_bounded(response)
        error = _loads(body).get("error") if kind == "JSON" else None
        if isinstance(error, dict):
            error = error.get("message")
        if isinstance(error, str):
            # The upstream's words, one short line of printable text.
            detail = " ".join(sanitise(error).split())[:200]
    except (ValueError, AttributeError, TimeoutError, aiohttp.ClientError):
        pass  # the error without its detail: the content type says enough
    finally:
        response.release()
    log.warning("upstream answered %s, not an event stream", response.content_type)
    message = f"The language model service answered {kind}, not a stream"
    return APIError(ErrorCode.UPSTREAM_ERROR, f"{message}: {detail}" if detail else f"{message}.")


class _RefusesUsage(Exception):
    """The upstream refused the request for its `stream_options` (a server that refuses
    fields it does not know, with a 400 or 422 that names it)."""


def _names_stream_options(status: int, body: bytes) -> bool:
    """Whether an error answer is a refusal of `stream_options` itself: a 400 or 422 whose
    JSON says so (Azure OpenAI: "Unrecognized request argument supplied: stream_options";
    FastAPI servers: a `detail` whose `loc` ends in it), not a refusal of the prompt."""
    if status not in (400, 422) or b"stream_options" not in body[:_MAX_NOT_STREAM]:
        return False
    try:
        answer = _loads(body[:_MAX_NOT_STREAM])
    except ValueError:
        return False
    if not isinstance(answer, dict):
        return False
    error, detail = answer.get("error"), answer.get("detail")
    said = [error.get("message"), error.get("param")] if isinstance(error, dict) else [error]
    if isinstance(detail, list):
        said += [str(item.get("loc")) for item in detail if isinstance(item, dict)]
    else:
        said.append(detail)
    return any(isinstance(text, str) and "stream_options" in text for text in said)


class _Retryable(Exception):
    """A failure before anything reached the client, worth another try: the connection
    failed or timed out, or the upstream answered 5xx. `error` is what the client hears once
    the tries are spent."""

    def __init__(self, error: APIError) -> None:
        super().__init__(error.message)
        self.error = error


def upstream_error(exc: Exception) -> APIError:
    """What a failure while reading the upstream's stream becomes for the client."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, aiohttp.ClientError | TimeoutError):
        # TimeoutError here is aiohttp's read timeout; our own deadlines are told apart
        # before this (generation.py).
        return APIError(ErrorCode.UPSTREAM_ERROR, _DROPPED)
    log.warning("upstream sent a broken reply (%s)", type(exc).__name__)
    return APIError(ErrorCode.UPSTREAM_ERROR, "The language model service sent a broken reply.")


#: What _chunk gives for `data: [DONE]`.
_DONE: dict[str, Any] = {}


def _chunk(line: bytes) -> dict[str, Any] | None:
    """One SSE line's chat chunk: None for a line that carries none (blank lines, comments,
    event: and id: fields), _DONE for `data: [DONE]`; an APIError for an error chunk, a
    ValueError for one that is not a JSON object. One reading for n = 1 and a shared reply."""
    if not line.startswith(b"data:"):
        return None
    payload = line[5:].strip()
    if payload == b"[DONE]":
        return _DONE
    chunk = _loads(payload)
    if not isinstance(chunk, dict):
        raise ValueError("a chunk that is not a JSON object")
    if chunk.get("error"):
        raise APIError(
            ErrorCode.UPSTREAM_ERROR, "The language model service reported an error mid-way."
        )
    return chunk


def _usage(chunk: dict[str, Any]) -> dict[str, Any] | None:
    """The token counts a chunk reports, if any (the last chunk, when asked with include_usage)."""
    usage = chunk.get("usage")
    if not usage:
        return None
    return {key: usage.get(key) for key in ("prompt_tokens", "completion_tokens", "total_tokens")}


class OpenAIGeneration:
    """Reads the upstream's SSE lines itself, from the raw body: building the SDK's pydantic
    object for every chunk, and httpx's text and line decoders, were most of our CPU per
    stream (bench/). Every `data:` line of one read comes out as one piece."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.usage: dict[str, Any] | None = None
        self._finished = False

    async def pieces(self) -> AsyncIterator[str]:
        body = self._response.content.iter_any()
        reader = SSELines()
        try:
            async for data in body:
                lines = reader.feed(data)
                if not lines:
                    continue
                texts: list[str] = []
                try:
                    done = self._parse(lines, texts)
                except Exception:
                    if texts:  # what came before the broken line is good
                        yield "".join(texts)
                    raise
                if texts:
                    yield "".join(texts)
                if done:
                    await self._finish_body(body)
                    return
        except Exception as exc:
            raise upstream_error(exc) from exc
        # It ended without [DONE] or a finish_reason: it was cut.
        if not self._finished:
            raise APIError(ErrorCode.UPSTREAM_ERROR, _DROPPED)

    def _parse(self, lines: list[bytes], texts: list[str]) -> bool:
        """Add the text of these SSE lines to `texts`; True once `data: [DONE]` is seen."""
        for line in lines:
            chunk = _chunk(line)
            if chunk is _DONE:
                return True
            if chunk is None:
                continue
            usage = _usage(chunk)
            if usage:
                self.usage = usage
            choices = chunk.get("choices")
            if choices:
                choice = choices[0]
                if choice.get("finish_reason"):
                    self._finished = True
                text = (choice.get("delta") or {}).get("content")
                if text:
                    texts.append(text)
        return False

    async def _finish_body(self, body: AsyncIterator[bytes]) -> None:
        """Read the end of the body after [DONE], so that the connection goes back to the
        pool for the next message instead of being closed (a new connection per message
        cost us more CPU than anything in our own code, and a TLS handshake upstream)."""
        with contextlib.suppress(Exception):
            async with asyncio.timeout(0.5):
                async for _ in body:
                    pass

    async def aclose(self) -> None:
        # Back to the pool when the body was read to its end; closed otherwise.
        self._response.release()


class OpenAIProvider:
    name = "openai"
    prompt_style: PromptStyle = "chat"
    languages: frozenset[str] | None = None  # a real model: every language

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = settings.model
        self._client: AsyncOpenAI | None = None
        #: Whether to ask for usage (`stream_options`): until the upstream refuses the field
        #: (then once more without it, and never again in this process; docs/api.md).
        self.asks_usage = True
        #: Whether the upstream writes `n` choices for one request: unknown until a request
        #: with `n` has shown it (OpenAI and vLLM do; llama.cpp's server and Ollama do not).
        self.honours_n: bool | None = None

    async def startup(self) -> None:
        self._http = Upstream(self.settings.generation_timeout_s)
        self._client = client = AsyncOpenAI(
            # The SDK insists on a key; servers like vLLM or Ollama ignore it.
            api_key=self.settings.openai_api_key or "unused",
            base_url=self.settings.openai_base_url,
            # We retry ourselves (see open): the SDK would also retry a 429, sleeping out its
            # Retry-After while the user waits to be told "busy".
            max_retries=0,
            # The SDK's own HTTP client never sends (see below). Not reading the environment
            # keeps it from failing on proxy settings it has no use for (socks5:// without
            # socksio); ours are read in transport.py.
            http_client=openai.DefaultAsyncHttpxClient(trust_env=False),
        )
        # What the SDK sends with a chat completion (its URL, auth and headers), taken once:
        # building them for every message was a third of our time before the first token
        # (bench/). The requests themselves go out through aiohttp (transport.py).
        headers = {**client.auth_headers, **client.default_headers}
        headers["Accept-Encoding"] = "identity"  # so that the body can be read raw
        self._headers = {key: value for key, value in headers.items() if isinstance(value, str)}
        self._url = URL(str(client.base_url.join("chat/completions")), encoded=True)

    async def shutdown(self) -> None:
        if self._client is not None:
            await self._http.aclose()
            await self._client.close()
            self._client = None

    async def open(self, prompt: Prompt, seed: int | None = None) -> OpenAIGeneration:
        if self._client is None:
            raise RuntimeError("OpenAIProvider.startup() was not awaited")
        request: dict[str, Any] = {
            "model": self.model,
            "messages": prompt.messages,
            "max_tokens": prompt.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if seed is not None:
            request["seed"] = seed  # each of a request's n messages is sampled on its own
        return OpenAIGeneration(await self._post(request))

    async def open_many(self, prompt: Prompt, n: int, seed: int) -> list[ChoiceGeneration] | None:
        """`n` messages from one request (the prompt read, and billed, once), each its own
        Generation; None once this upstream is known to ignore `n` (then the caller asks for
        each message on its own). An index the upstream does not write is asked for on its
        own when the reply ends, and the provider remembers it: llama.cpp's server and Ollama
        write one choice whatever `n` says, so only the first such request waits twice."""
        if self._client is None:
            raise RuntimeError("OpenAIProvider.startup() was not awaited")
        if self.honours_n is False:
            return None
        request: dict[str, Any] = {
            "model": self.model,
            "messages": prompt.messages,
            "max_tokens": prompt.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
            "n": n,
            "seed": seed,
        }
        response = await self._post(request)
        return _SharedReply(self, response, prompt, n, seed).generations

    async def _post(self, request: dict[str, Any]) -> aiohttp.ClientResponse:
        attempt = 0
        while True:
            if not self.asks_usage:
                request.pop("stream_options", None)
            try:
                return await self._send(_dumps(request).encode(), "stream_options" in request)
            except _RefusesUsage:
                # Asking for usage must never cost a message: ask again without it, and
                # remember (a 400 for it again would be a refusal of the prompt).
                if self.asks_usage:
                    log.warning("the upstream refuses stream_options: no usage from it")
                self.asks_usage = False
                continue
            except _Retryable as retryable:
                # Nothing has reached the client yet, so a transient failure may be retried.
                if attempt >= self.settings.upstream_max_retries:
                    raise retryable.error from retryable
                await asyncio.sleep(0.25 * 2**attempt)
                attempt += 1
            except APIError:
                raise
            except Exception as exc:
                raise upstream_error(exc) from exc

    async def _send(self, body: bytes, asks_usage: bool = False) -> aiohttp.ClientResponse:
        """Send one chat request: the response of a 2xx, else our error for its status
        (_RefusesUsage when it refused `stream_options`, which `asks_usage` says it has)."""
        try:
            response = await self._http.post(self._url, self._headers, body)
        except TimeoutError as exc:  # aiohttp's ServerTimeoutError is one too
            raise _Retryable(APIError(ErrorCode.UPSTREAM_TIMEOUT)) from exc
        except aiohttp.ClientError as exc:
            raise _Retryable(APIError(ErrorCode.UPSTREAM_ERROR, _DROPPED)) from exc
        if 200 <= response.status < 300:
            if response.content_type in _NOT_STREAMS or response.content_type.endswith("+json"):
                raise await _not_a_stream(response)
            return response
        try:
            # Read (a bounded part: a huge error page is not read whole into memory) so that
            # the connection can serve the next message; one with more left is closed instead.
            answer = await _read_bounded(response)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise _Retryable(APIError(ErrorCode.UPSTREAM_ERROR, _DROPPED)) from exc
        finally:
            if response.content.at_eof():
                response.release()
            else:
                response.close()
        if asks_usage and _names_stream_options(response.status, answer):
            raise _RefusesUsage
        error = status_error(response.status, response.headers)
        if response.status >= 500:
            raise _Retryable(error)
        raise error


_END = object()  # an index's text is complete
_MISSING = object()  # the reply ended well without this index: the upstream ignored `n`


class _SharedReply:
    """One upstream reply with `n` choices, its chunks interleaved, each naming its `index`:
    read by one task that hands each index's text to that index's ChoiceGeneration. The
    response is closed once every index's generation is (a client leaving closes them all)."""

    def __init__(
        self,
        provider: OpenAIProvider,
        response: aiohttp.ClientResponse,
        prompt: Prompt,
        n: int,
        seed: int,
    ) -> None:
        self.provider, self.prompt, self.seed = provider, prompt, seed
        self._response = response
        self.generations = [ChoiceGeneration(self, index) for index in range(n)]
        self._open = n
        self._task = asyncio.ensure_future(self._read())

    def _put(self, index: int, item: object) -> None:
        self.generations[index].queue.put_nowait(item)

    async def _read(self) -> None:
        n = len(self.generations)
        seen, finished = [False] * n, [False] * n
        completed = False
        reader = SSELines()  # CR, LF, CRLF; a line bounded as for n = 1
        try:
            async for data in self._response.content.iter_any():
                for line in reader.feed(data):
                    chunk = _chunk(line)
                    if chunk is _DONE:
                        completed = True
                        break
                    if chunk is None:
                        continue
                    usage = _usage(chunk)
                    if usage:  # the whole reply's: given to index 0
                        self.generations[0].usage = usage
                    for choice in chunk.get("choices") or ():
                        index = choice.get("index", 0)
                        if not isinstance(index, int) or not 0 <= index < n:
                            raise ValueError(f"a choice index out of range: {index!r}")
                        seen[index] = True
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            self._put(index, text)
                        if choice.get("finish_reason"):
                            finished[index] = True
                if completed:
                    break
        except Exception as exc:
            error = upstream_error(exc)
            for index in range(n):
                if not finished[index]:
                    self._put(index, error)
            for index in range(n):
                if finished[index]:
                    self._put(index, _END)
            return
        # Ended without [DONE]: every unfinished index was cut (or never began).
        completed = completed or all(finished)
        for index in range(n):
            if finished[index]:
                self._put(index, _END)
            elif completed and not seen[index]:
                self._put(index, _MISSING)
            else:
                self._put(index, APIError(ErrorCode.UPSTREAM_ERROR, _DROPPED))
        if completed and not all(seen):
            if self.provider.honours_n is not False:
                log.info("the upstream ignores n: asking for each message on its own")
            self.provider.honours_n = False
        elif completed:
            self.provider.honours_n = True

    async def release(self) -> None:
        """One index is done with the reply; the last closes it."""
        self._open -= 1
        if self._open == 0:
            if not self._task.done():
                self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
            self._response.release()


class ChoiceGeneration:
    """One index of a reply with `n` choices; asked for on its own if the reply lacks it."""

    def __init__(self, reply: _SharedReply, index: int) -> None:
        self.usage: dict[str, Any] | None = None
        self.queue: asyncio.Queue[object] = asyncio.Queue()
        self._reply, self._index = reply, index
        self._own: OpenAIGeneration | None = None
        self._released = False

    async def pieces(self) -> AsyncIterator[str]:
        while True:
            item = await self.queue.get()
            if item is _END:
                return
            if item is _MISSING:
                break
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, str), f"a reply's piece that is not text: {item!r}"
            yield item
        # The upstream wrote fewer choices than asked: this one on its own, with its seed.
        await self._release()
        reply = self._reply
        self._own = await reply.provider.open(reply.prompt, reply.seed + self._index)
        try:
            async for piece in self._own.pieces():
                yield piece
        finally:
            self.usage = self._own.usage

    async def _release(self) -> None:
        if not self._released:
            self._released = True
            await self._reply.release()

    async def aclose(self) -> None:
        if self._own is not None:
            await self._own.aclose()
        await self._release()
