"""The one Server-Sent Events encoder: every `data:` is one JSON object on one line."""

from __future__ import annotations

import json
from typing import Any

PING = b": ping\n\n"
HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
}

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode(event: str, data: dict[str, Any]) -> bytes:
    # json.dumps escapes newlines inside strings, so the data stays on one line.
    return f"event: {event}\ndata: {_dumps(data)}\n\n".encode()
