"""What a route declares about itself, on the view, as tozo writes `@rate_limit(…)` above it:
that it writes messages (and so spends the client's rate-limit budget), and where the form
page's token may open it. The hooks (web/ratelimit.py, web/security.py) read the declaration of
the view that serves the request, so renaming a view cannot drop its policies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

from quart import current_app, request

View = TypeVar("View", bound=Callable[..., Any])
#: "header": the page's script sends the token as X-Page-Token (the API routes that write);
#: "form": the no-JavaScript form posts it, and its view checks it.
PageToken = Literal["header", "form"]
#: The messages the form page asks for, side by side (static/app.js asks for as many): its
#: form's POST / writes that many, and spends that many (web/ratelimit.py).
PAGE_N = 3

_RATE_LIMITED = "messagebot_rate_limited"
_PAGE_TOKEN = "messagebot_page_token"


def rate_limited(view: View) -> View:
    """Declare that `view` writes messages: each request spends one of the client's budget,
    shared by every route so declared (MESSAGEBOT_RATE_LIMIT, or the page's own)."""
    setattr(view, _RATE_LIMITED, True)
    return view


def page_token(where: PageToken) -> Callable[[View], View]:
    """Declare that, with API keys set, the form page's token opens `view` in place of a key
    (docs/security.md, "The page and its token"); no other route accepts it."""

    def declare(view: View) -> View:
        setattr(view, _PAGE_TOKEN, where)
        return view

    return declare


def _view() -> object:
    """The view serving this request; None when no route matched (a 404 or 405)."""
    return current_app.view_functions.get(request.endpoint) if request.endpoint else None


def is_rate_limited(view: object) -> bool:
    return getattr(view, _RATE_LIMITED, False) is True


def page_token_of(view: object) -> PageToken | None:
    where = getattr(view, _PAGE_TOKEN, None)
    return where if where in ("header", "form") else None


def spends_rate_limit() -> bool:
    """Whether this request's view is declared @rate_limited."""
    return is_rate_limited(_view())


def page_token_opens() -> PageToken | None:
    """Where this request's view takes the page's token, if it does."""
    return page_token_of(_view())
