"""Cross-origin access (MESSAGEBOT_CORS_ORIGINS): pages on the listed origins may call the API.

quart-cors adds the headers to every response of a listed origin; any other origin gets none, so
its browser refuses the answer (and, for a preflighted request, never sends it). Keys travel in
headers (`Authorization`, `X-API-Key`), not cookies, so no credentials mode is allowed, and no
wildcard: `Access-Control-Allow-Origin` is the caller's own origin, with `Vary: Origin`.

A preflight (OPTIONS with `Access-Control-Request-Method`) never carries a key: security.py
answers it before the key check and the rate limit, and the headers below are added to it here.
"""

from __future__ import annotations

from quart import Quart
from quart_cors import cors

# What a page may send: the key (either way), JSON bodies, and its own request id.
ALLOW_HEADERS = ("Authorization", "X-API-Key", "Content-Type", "X-Request-ID")
ALLOW_METHODS = ("GET", "HEAD", "POST")
# What a page may read besides the CORS-safelisted headers: when to retry (429 and 503),
# the request id to quote in a bug report, and the rate limit's budget.
EXPOSE_HEADERS = (
    "Retry-After",
    "X-Request-ID",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)
PREFLIGHT_MAX_AGE_S = 600  # a browser asks again at most every 10 minutes (Chromium caps at 2 h)


def init_app(app: Quart, origins: tuple[str, ...]) -> None:
    if not origins:
        return  # no cross-origin access at all: no CORS headers, as a browser expects by default
    cors(
        app,
        allow_origin=list(origins),
        allow_credentials=False,
        allow_headers=ALLOW_HEADERS,
        allow_methods=ALLOW_METHODS,
        expose_headers=EXPOSE_HEADERS,
        max_age=PREFLIGHT_MAX_AGE_S,
        send_origin_wildcard=False,
    )
