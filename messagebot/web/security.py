"""API keys, the client's identity for rate limits, and the headers every response carries."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from quart import Quart, Response, current_app, g, request
from quart_cors import cors_exempt

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
    return key_index(key, keys) is not None


def key_index(key: str, keys: tuple[str, ...]) -> int | None:
    """Which of `keys` this is, if any. Compares against every key, each in constant time, so
    timing tells nothing (not even which one matched)."""
    found = None
    for index, candidate in enumerate(keys):
        if hmac.compare_digest(key.encode(), candidate.encode()):
            found = index
    return found


#: /v1/stats' name for the page's requests (its token, its form) while keys are set, and for
#: every request while none is.
PAGE, ANONYMOUS = "page", "anonymous"


def client_name() -> str:
    """Who /v1/stats and /metrics count this request's messages under: its key's name (a
    bare key's fingerprint), `page` for the page's own requests while keys are set, else
    `anonymous` (no key is configured). Only configured names, so the set is bounded."""
    config = settings()
    if not config.api_keys:
        return ANONYMOUS
    name: str | None = g.get("key_name")
    return name if name is not None else PAGE


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


# A view marked by own_origin_only() (the form page's).
OWN_ORIGIN_ONLY = "_messagebot_own_origin_only"
# What a browser says in Sec-Fetch-Site for a form its own page sent, or one the visitor sent
# by hand (a bookmark, a reload); another site, even a sibling one (another port of this
# host, another subdomain of the same domain), is refused.
_OWN_SITE = frozenset({"same-origin", "none"})


def own_origin_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """The form page's routes: out of CORS (no other origin's script may read the page and its
    token, nor be answered a preflight), and a POST from another origin is refused before it
    spends a budget or model time (refuse_cross_site_form)."""
    setattr(view, OWN_ORIGIN_ONLY, True)
    return cors_exempt(view)


def cross_site_reason() -> str | None:
    """Why this request comes from another site, or None: by Sec-Fetch-Site, which every
    current browser sends; else by Origin (an opaque `null` included); with neither (an old
    browser, curl), nothing says it does. The host is compared, not the scheme: behind
    Heroku's router the app is reached over http for an https page."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        if fetch_site.strip().lower() in _OWN_SITE:
            return None
        return f"the browser says it was sent from another site (Sec-Fetch-Site: {fetch_site[:40]})"
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    try:
        parts = urlsplit(origin.strip())
        host = parts.netloc if parts.scheme in ("http", "https") else ""
    except ValueError:
        host = ""
    if host and host.lower() == request.host.lower():
        return None
    return f"it was sent from another origin (Origin: {origin[:200]})"


async def refuse_cross_site_form() -> None:
    """A form another site's page sends to ours (CSRF) is refused: it would spend the
    visitor's page budget and model time. Only a POST: a link to the page is fine."""
    if request.method != "POST":
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, OWN_ORIGIN_ONLY, False):
        return
    reason = cross_site_reason()
    if reason is not None:
        raise APIError(
            ErrorCode.FORBIDDEN, f"This form can only be sent from this site's own page: {reason}."
        )


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
    index = key_index(key, keys) if key else None
    if index is not None:
        g.key_name = config.api_key_names[index]  # client_name(): the stats' name for it
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
    app.before_request(refuse_cross_site_form)  # before the rate limit: it spends nothing
    app.before_request(require_key)
    app.after_request(security_headers)
