"""API keys, the client's identity for rate limits, and the headers every response carries."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging

from quart import Quart, Response, current_app, g, request

from ..config import Settings
from ..errors import APIError, ErrorCode
from .page_token import verify_page_token
from .policies import page_token_opens

log = logging.getLogger("messagebot.security")

# Endpoints that need a key when keys are configured: every /v1/* route and the original one.
PROTECTED_PREFIXES = ("/v1/", "/streaming/")


def settings() -> Settings:
    return current_app.extensions["messagebot"].settings  # type: ignore[no-any-return]


def presented_key() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("X-API-Key", "").strip() or None


def key_is_valid(key: str, keys: tuple[str, ...]) -> bool:
    # Compare against every key, each in constant time, so timing tells nothing.
    found = False
    for candidate in keys:
        found |= hmac.compare_digest(key.encode(), candidate.encode())
    return found


def client_ip() -> str:
    """The client's address; with MESSAGEBOT_TRUST_PROXY, the one our proxy saw.

    Heroku's router appends the address it saw to X-Forwarded-For, so the last entry is the
    one a client cannot forge."""
    if settings().trust_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return request.remote_addr or "unknown"


def client_identity() -> str:
    """Who to count a request against: the API key (hashed), else the client's address."""
    key = presented_key()
    if key and key_is_valid(key, settings().api_keys):
        return "key:" + hashlib.sha256(key.encode()).hexdigest()[:24]
    return "ip:" + client_ip()


async def answer_preflight() -> Response | None:
    """A CORS preflight never carries a key: it is answered before the key check and the rate
    limit (cors.py adds its headers), or no page on another origin could call the API."""
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return await current_app.make_default_options_response()
    return None


def by_page_token() -> bool:
    """Whether this request is the page's rather than a key holder's: let in by the page's
    token (require_key), or the no-JavaScript form's POST / while keys are set."""
    if page_token_opens() == "form":
        return bool(settings().api_keys)
    return bool(g.get("page_token"))


async def require_key() -> None:
    config = settings()
    keys = config.api_keys
    if not keys or not request.path.startswith(PROTECTED_PREFIXES):
        return
    key = presented_key()
    if key and key_is_valid(key, keys):
        return
    token = request.headers.get("X-Page-Token", "")
    if (
        token
        and config.page
        and request.method == "POST"
        # Only the routes that declare it (web/policies.py): those that write a message.
        and page_token_opens() == "header"
        and verify_page_token(config.secret_key, token)
    ):
        g.page_token = True  # ratelimit.py: the page's budget, not a key's
        return
    raise APIError(ErrorCode.UNAUTHORIZED)


async def security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    # The page's routes and /docs set their own policy; JSON and streams need none of the web.
    headers.setdefault("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
    return response


def init_app(app: Quart) -> None:
    app.before_request(answer_preflight)
    app.before_request(require_key)
    app.after_request(security_headers)
