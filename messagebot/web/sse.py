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

#: Compact JSON on one line (json escapes newlines inside strings), UTF-8 as it is.
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {dumps(data)}\n\n".encode()
