"""docs/security.md, "The page and its token": with API keys set, the page's token is not a
key. It opens only the routes that write messages, with a budget of its own per client address
(MESSAGEBOT_PAGE_RATE_LIMIT), never /v1/stats; MESSAGEBOT_PAGE=off turns the page off. Over
real sockets, against the whole app in Hypercorn."""

from __future__ import annotations

import re

import httpx
import pytest

from messagebot import create_app
from messagebot.config import ConfigError, Settings, parse_rate_limit
from messagebot.fake_upstream import FakeUpstream
from messagebot.web.page_token import issue_page_token

from .helpers import openai_env, running
from .redis_server import RedisServer

BODY = {"relation": "wife", "reason": "birthday"}
WRITES = ("/v1/messages", "/v1/messages/stream", "/streaming/")
SECRET = "page-token-test-secret"


async def page_token(client: httpx.AsyncClient, url: str) -> str:
    """What anyone can do: load the page and take its token."""
    page = await client.get(f"{url}/")
    assert page.status_code == 200
    found = re.search(r'<meta name="messagebot-token" content="([^"]+)">', page.text)
    assert found, "no token in the page"
    return found.group(1)


async def write(client: httpx.AsyncClient, url: str, path: str, headers: dict[str, str]) -> int:
    return (await client.post(f"{url}{path}", json=BODY, headers=headers)).status_code


async def test_the_token_opens_only_the_routes_that_write(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    env = openai_env(fake, MESSAGEBOT_API_KEYS="k1", MESSAGEBOT_SECRET_KEY=SECRET)
    async with running(env) as server:
        token = {"X-Page-Token": await page_token(client, server.url)}
        for path in WRITES:
            assert await write(client, server.url, path, token) == 200, path
        # Nothing else: the counters, a GET on a message route, any other /v1 path.
        for method, path in (
            ("GET", "/v1/stats"),
            ("GET", "/v1/messages"),
            ("GET", "/v1/anything"),
            ("POST", "/v1/stats"),
        ):
            response = await client.request(method, f"{server.url}{path}", headers=token)
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.json()["error"]["code"] == "unauthorized"
        # A key still opens the counters.
        stats = await client.get(f"{server.url}/v1/stats", headers={"X-API-Key": "k1"})
        assert stats.status_code == 200


async def test_the_token_has_its_own_budget_per_client(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    """No MESSAGEBOT_RATE_LIMIT at all: keys are unlimited, the page's token is not. A fresh
    token does not bring a fresh budget; the three routes share it; the form's POST / spends
    it too; the key's requests neither spend nor are stopped by it."""
    env = openai_env(
        fake,
        MESSAGEBOT_API_KEYS="k1",
        MESSAGEBOT_SECRET_KEY=SECRET,
        MESSAGEBOT_PAGE_RATE_LIMIT="6/hour",  # three writes of one, and the form's three
    )
    async with running(env) as server:
        token = {"X-Page-Token": await page_token(client, server.url)}
        got = [await write(client, server.url, path, token) for path in WRITES]
        form = await client.post(
            f"{server.url}/", data={**BODY, "page_token": token["X-Page-Token"]}
        )
        assert form.status_code == 200 and form.headers["ratelimit-remaining"] == "0"
        assert got == [200, 200, 200]
        for path in WRITES:
            limited = await client.post(f"{server.url}{path}", json=BODY, headers=token)
            assert limited.status_code == 429
            assert limited.json()["error"]["code"] == "rate_limited"
            assert limited.headers["ratelimit-limit"] == "6"
            assert 1 <= int(limited.headers["retry-after"]) <= 900
        form = await client.post(
            f"{server.url}/", data={**BODY, "page_token": token["X-Page-Token"]}
        )
        assert form.status_code == 429
        fresh = {"X-Page-Token": await page_token(client, server.url)}
        assert await write(client, server.url, "/v1/messages", fresh) == 429
        for _ in range(6):  # a key holder is not limited (no MESSAGEBOT_RATE_LIMIT)
            assert await write(client, server.url, "/v1/messages", {"X-API-Key": "k1"}) == 200


async def test_the_page_budget_is_not_the_keys_budget_and_is_shared_through_redis(
    fake: FakeUpstream, redis_server: RedisServer, client: httpx.AsyncClient
) -> None:
    env = openai_env(
        fake,
        MESSAGEBOT_API_KEYS="k1",
        MESSAGEBOT_SECRET_KEY=SECRET,
        MESSAGEBOT_RATE_LIMIT="2/hour",
        MESSAGEBOT_PAGE_RATE_LIMIT="3/hour",
        REDIS_URL=redis_server.url,
    )
    key = {"X-API-Key": "k1"}
    async with running(env) as server:
        token = {"X-Page-Token": await page_token(client, server.url)}
        assert [await write(client, server.url, "/v1/messages", key) for _ in range(3)] == [
            200,
            200,
            429,
        ]
        assert [await write(client, server.url, "/streaming/", token) for _ in range(4)] == [
            200,
            200,
            200,
            429,
        ]
    # Another process with the same secret and Redis (another worker or dyno): the same
    # budget, already spent.
    async with running(env) as other:
        assert await write(client, other.url, "/v1/messages", token) == 429


async def test_the_default_page_budget_is_twenty_a_minute(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    env = openai_env(fake, MESSAGEBOT_API_KEYS="k1", MESSAGEBOT_SECRET_KEY=SECRET)
    async with running(env) as server:
        token = {"X-Page-Token": await page_token(client, server.url)}
        got = [await write(client, server.url, "/v1/messages", token) for _ in range(21)]
        assert got == [200] * 20 + [429]


async def test_the_page_can_be_turned_off(fake: FakeUpstream, client: httpx.AsyncClient) -> None:
    env = openai_env(
        fake, MESSAGEBOT_API_KEYS="k1", MESSAGEBOT_SECRET_KEY=SECRET, MESSAGEBOT_PAGE="off"
    )
    async with running(env) as server:
        page = await client.get(f"{server.url}/")
        assert page.status_code == 404
        assert "messagebot-token" not in page.text
        # A token signed with the same secret (by an earlier deploy, say) opens nothing.
        token = {"X-Page-Token": issue_page_token(SECRET)}
        assert await write(client, server.url, "/v1/messages", token) == 401
        form = await client.post(
            f"{server.url}/", data={**BODY, "page_token": token["X-Page-Token"]}
        )
        assert form.status_code == 404  # as the README promises: no page, no form
        assert form.json()["error"]["code"] == "not_found"
        assert await write(client, server.url, "/v1/messages", {"X-API-Key": "k1"}) == 200


def test_page_settings() -> None:
    assert Settings.from_env({}).page is True
    assert Settings.from_env({}).page_rate_limit == parse_rate_limit("20/minute")
    assert Settings.from_env({"MESSAGEBOT_PAGE": "off"}).page is False
    assert Settings.from_env({"MESSAGEBOT_PAGE_RATE_LIMIT": "off"}).page_rate_limit is None
    with pytest.raises(ConfigError, match="MESSAGEBOT_PAGE"):
        Settings.from_env({"MESSAGEBOT_PAGE": "of"})
    # A budget that does not parse stops the start, naming its variable.
    env = {
        "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        "MESSAGEBOT_API_KEYS": "k1",
        "MESSAGEBOT_PAGE_RATE_LIMIT": "lots",
    }
    with pytest.raises(ConfigError, match="MESSAGEBOT_PAGE_RATE_LIMIT"):
        create_app(Settings.from_env(env))
