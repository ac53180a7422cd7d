"""One JSON line per request on stdout, with the request id echoed as X-Request-ID.

Only what an operator needs: method, path, status, duration, provider, model, tokens, how the
message ended, and the error code the client was told. Never a field of the request (names,
relations and reasons are personal). It also counts requests and errors for /metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sys
import time
import unicodedata
import uuid
from typing import Any

from hypercorn.typing import (
    ASGIFramework,
    ASGIReceiveCallable,
    ASGISendCallable,
    Scope,
)

from ..errors import ERROR_SCOPE_KEY
from ..metrics import ERRORS, REQUESTS, method_label, status_label

SCOPE_KEY = "messagebot.log"
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

access = logging.getLogger("messagebot.access")

# Characters that json.dumps(ensure_ascii=False) leaves raw but that must not reach a log line
# as they are: C0/C1 controls and DEL (U+0085 is a line break to many readers), U+2028 and
# U+2029 (line and paragraph separators), format characters (bidi overrides, zero widths) and
# lone surrogates. A client can put any of them in a URL path.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _escape_char(char: str) -> str:
    if unicodedata.category(char) not in _UNSAFE_CATEGORIES:
        return char
    code = ord(char)
    if code > 0xFFFF:  # JSON writes it as a UTF-16 surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def safe_json(record: dict[str, Any]) -> str:
    """One JSON line, in UTF-8 where that is safe, \\u-escaped where it is not."""
    line = json.dumps(record, ensure_ascii=False)
    if line.isascii() and "\x7f" not in line:
        return line
    return "".join(char if " " <= char < "\x7f" else _escape_char(char) for char in line)


def _setup() -> None:
    if not access.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False


class _RequestBody:
    """Whether the app has received the request's whole body, and a wait for the rest of a
    small one before the answer ends.

    An answer can go out before the body was read: a 429 or 401 decided from the headers, a
    404. Hypercorn closes the connection when an answer ends before the body did, without a
    word to the client, which sends its next request on it and gets no answer at all (3 runs
    in 5 of 12 requests on one keep-alive connection). So the end of the answer waits (up to
    DRAIN_S) for the rest of a body of up to DRAIN_BYTES, which Quart reads as it arrives, and
    the connection stays usable; the answer to a larger or chunked body, or to a request that
    expects `100 Continue`, says `Connection: close`."""

    DRAIN_BYTES = 64 * 1024
    DRAIN_S = 2.0

    def __init__(self, headers: dict[bytes, bytes], receive: ASGIReceiveCallable) -> None:
        self._receive = receive
        self._complete = asyncio.Event()
        self.drainable = False
        length = headers.get(b"content-length", b"0").strip()
        # A client that waits for `100 Continue` sends no body after a final answer.
        if not {b"transfer-encoding", b"expect"} & headers.keys() and length.isdigit():
            self.drainable = int(length) <= self.DRAIN_BYTES

    @property
    def complete(self) -> bool:
        return self._complete.is_set()

    async def receive(self) -> Any:
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            self._complete.set()  # the whole body, or the client left
        return message

    async def wait(self) -> None:
        """Until the app has the whole body, if it is small, for at most DRAIN_S."""
        if self.drainable and not self.complete:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.DRAIN_S):
                    await self._complete.wait()


class RequestLog:
    """ASGI middleware: times each request to its last byte (streams included)."""

    def __init__(self, app: ASGIFramework, routes: set[str]) -> None:
        self.app = app
        # The app's route rules: those without a variable part match one path each; the
        # others (/static/<path:filename>) every path under their fixed beginning.
        self.routes = {rule for rule in routes if "<" not in rule}
        self._prefixes = sorted(
            ((rule.partition("<")[0], rule) for rule in routes if "<" in rule), reverse=True
        )
        _setup()

    def _route(self, path: str) -> str:
        """A metrics label: the route rule the path matches, else `unmatched`; never a path a
        client made up (label values must come from a closed set)."""
        if path in self.routes:
            return path
        for prefix, rule in self._prefixes:
            if path.startswith(prefix) and len(path) > len(prefix):
                return rule
        return "unmatched"

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex
        record: dict[str, Any] = {
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "status": None,
        }
        scope[SCOPE_KEY] = record  # type: ignore[literal-required]

        body = _RequestBody(headers, receive)

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                record["status"] = message["status"]
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                if not body.complete and not body.drainable:
                    # Answered before a large or chunked body was read (a 413, say): Hypercorn
                    # will close the connection, so the client must not send another request
                    # on it.
                    headers.append((b"connection", b"close"))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                await body.wait()
            await send(message)

        try:
            await self.app(scope, body.receive, send_with_id)
        finally:
            record["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            stream = record.pop("stream", None)
            if stream is not None:
                usage = stream.usage or {}
                record.update(
                    provider=stream.start.provider,
                    model=stream.start.model,
                    tokens=usage.get("completion_tokens"),
                    finish_reason=stream.outcome or "cancelled",
                )
            # The error the client was told, once: an error answer (noted by APIError), else
            # the error event that ended its stream.
            error = scope.get(ERROR_SCOPE_KEY) or (stream.error if stream is not None else None)
            if error is not None:
                record["error"] = str(error)
                ERRORS.labels(record["error"]).inc()
            access.info(safe_json(record))
            REQUESTS.labels(
                method_label(record["method"]),
                self._route(scope["path"]),
                status_label(record["status"]),
            ).inc()
