"""One JSON line per request on stdout, with the request id echoed as X-Request-ID.

Only what an operator needs: method, path, status, duration, provider, model, tokens and how
the message ended. Never a field of the request (names, relations and reasons are personal).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from hypercorn.typing import ASGIFramework, ASGIReceiveCallable, ASGISendCallable, Scope

from .metrics import REQUESTS, method_label, status_label

SCOPE_KEY = "messagebot.log"
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

access = logging.getLogger("messagebot.access")


def _setup() -> None:
    if not access.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        access.setLevel(logging.INFO)
        access.propagate = False


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
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _VALID_ID.fullmatch(given) else uuid.uuid4().hex
        record: dict[str, Any] = {
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "status": None,
        }
        scope[SCOPE_KEY] = record  # type: ignore[literal-required]

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                record["status"] = message["status"]
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (b"x-request-id", request_id.encode()),
                    ],
                }
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            record["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
            run = record.pop("run", None)
            if run is not None:
                usage = run.usage or {}
                record.update(
                    provider=run.start.provider,
                    model=run.start.model,
                    tokens=usage.get("completion_tokens"),
                    finish_reason=run.outcome or "cancelled",
                )
            access.info(json.dumps(record, ensure_ascii=False))
            REQUESTS.labels(
                method_label(record["method"]),
                self._route(scope["path"]),
                status_label(record["status"]),
            ).inc()
