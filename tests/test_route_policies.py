"""A route's policies are declared on its view (web/policies.py), not listed by endpoint name:
every route that writes a message spends the rate-limit budget and takes the page's token, and
a view registered under another name keeps both. Over real sockets, in Hypercorn."""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

import httpx
from quart import Quart

from messagebot import create_app
from messagebot.config import Settings
from messagebot.fake_upstream import FakeUpstream
from messagebot.web import policies

from .helpers import openai_env, running
from .test_page_token import page_token

BODY = {"relation": "wife", "reason": "birthday"}
SECRET = "route-policies-test-secret"


def writes_a_message(view: Callable[..., Any]) -> bool:
    """Whether the view starts a generation: it calls `begin(…)` (web/api.py) or
    `service().begin(…)`."""
    source = textwrap.dedent(inspect.getsource(inspect.unwrap(view)))
    return any(
        isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Name) and node.func.id == "begin")
            or (isinstance(node.func, ast.Attribute) and node.func.attr == "begin")
        )
        for node in ast.walk(ast.parse(source))
    )


def test_every_route_that_writes_declares_its_policies() -> None:
    app = create_app(Settings.from_env({"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}))
    writers = {name for name, view in app.view_functions.items() if writes_a_message(view)}
    assert writers == {
        "api.create_message",
        "api.stream_message",
        "api.legacy_streaming",
        "web.write_without_javascript",
    }
    for name, view in app.view_functions.items():
        assert policies.is_rate_limited(view) is (name in writers), name
        expected = ("form" if name.startswith("web.") else "header") if name in writers else None
        assert policies.page_token_of(view) == expected, name


def add_renamed_writer(app: Quart) -> None:
    """The JSON route's view again, under a new endpoint name and path."""
    view = app.view_functions["api.create_message"]
    app.add_url_rule("/v1/renamed", "renamed_writer", view, methods=["POST"])


async def test_a_renamed_view_keeps_its_limit_and_its_page_token(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    env = openai_env(
        fake,
        MESSAGEBOT_API_KEYS="k1",
        MESSAGEBOT_SECRET_KEY=SECRET,
        MESSAGEBOT_RATE_LIMIT="2/hour",
    )
    key = {"X-API-Key": "k1"}
    async with running(env, add_renamed_writer) as server:
        renamed = f"{server.url}/v1/renamed"
        got = [(await client.post(renamed, json=BODY, headers=key)).status_code for _ in range(2)]
        assert got == [200, 200]
        refused = await client.post(renamed, json=BODY, headers=key)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= 1800
        # The one budget: the original route is spent too.
        original = await client.post(f"{server.url}/v1/messages", json=BODY, headers=key)
        assert original.status_code == 429
        # The page's token opens the renamed route, as it does the original.
        token = {"X-Page-Token": await page_token(client, server.url)}
        assert (await client.post(renamed, json=BODY, headers=token)).status_code == 200
