"""MESSAGEBOT_CORS_ORIGINS: a page on a listed origin may call the API, with a key, and stream;
any other origin is refused. Checked header by header with httpx, then in Chromium from pages
served on other loopback origins."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser

from messagebot.config import ConfigError, Settings
from messagebot.fake_upstream import FakeUpstream

from .client_support import open_page, other_origins
from .helpers import Server, openai_env, running

KEY = "k-cors-test"
BODY = {"relation": "wife", "reason": "birthday"}
ROUTES = ["/v1/messages", "/v1/messages/stream", "/streaming/"]
ASKED_HEADERS = "authorization, content-type, x-api-key, x-request-id"


@pytest.fixture(scope="module")
async def origins() -> AsyncIterator[list[str]]:
    async with other_origins(2) as urls:
        yield urls  # [listed, unlisted]


@pytest.fixture(scope="module")
async def cors_server(fake: FakeUpstream, origins: list[str]) -> AsyncIterator[Server]:
    env = openai_env(fake, MESSAGEBOT_API_KEYS=KEY, MESSAGEBOT_CORS_ORIGINS=origins[0])
    async with running(env) as served:
        yield served


def preflight_headers(origin: str, headers: str = ASKED_HEADERS) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": headers,
    }


def header_set(value: str | None) -> set[str]:
    return {item.strip().lower() for item in (value or "").split(",") if item.strip()}


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def test_a_preflight_is_answered_before_the_key_check_and_the_rate_limit(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    origin = "http://localhost:5173"
    env = openai_env(
        fake,
        MESSAGEBOT_API_KEYS=KEY,
        MESSAGEBOT_CORS_ORIGINS=f"https://app.example.com, {origin}/",
        MESSAGEBOT_RATE_LIMIT="1/minute",
    )
    async with running(env) as server:
        for path in [*ROUTES, "/v1/stats"]:
            url = f"{server.url}{path}"
            response = await client.options(url, headers=preflight_headers(origin))
            assert response.status_code == 200, (path, response.text)
            assert response.headers["access-control-allow-origin"] == origin
            assert header_set(response.headers.get("access-control-allow-headers")) == {
                "authorization",
                "content-type",
                "x-api-key",
                "x-request-id",
            }
            assert "post" in header_set(response.headers["access-control-allow-methods"])
            assert response.headers["access-control-max-age"] == "600"
            assert "origin" in header_set(response.headers.get("vary"))
            assert "access-control-allow-credentials" not in response.headers
        # Four preflights spent nothing of a budget of one: the first real request passes.
        headers = {"Origin": origin, "Authorization": f"Bearer {KEY}"}
        first = await client.post(f"{server.url}/v1/messages", json=BODY, headers=headers)
        assert first.status_code == 200, first.text
        assert first.headers["access-control-allow-origin"] == origin
        # The next is refused, and the page may read when to try again.
        second = await client.post(f"{server.url}/v1/messages", json=BODY, headers=headers)
        assert second.status_code == 429
        assert second.headers["access-control-allow-origin"] == origin
        exposed = header_set(second.headers["access-control-expose-headers"])
        assert {"retry-after", "x-request-id"} <= exposed
        assert second.headers["retry-after"]


async def test_headers_a_page_may_not_send_are_not_allowed(
    cors_server: Server, origins: list[str], client: httpx.AsyncClient
) -> None:
    # The form page's token is for the form page, not for other origins.
    response = await client.options(
        f"{cors_server.url}/v1/messages/stream",
        headers=preflight_headers(origins[0], "content-type, x-page-token, cookie"),
    )
    assert header_set(response.headers.get("access-control-allow-headers")) == {"content-type"}


async def test_real_answers_carry_the_origin_and_expose_retry_after_and_request_id(
    cors_server: Server, origins: list[str], client: httpx.AsyncClient
) -> None:
    listed = origins[0]
    url = f"{cors_server.url}/v1/messages/stream"
    cases = [
        ({"Authorization": f"Bearer {KEY}"}, BODY, 200),
        ({"X-API-Key": KEY}, {**BODY, "reason": "x [[fake status=429 retry_after=7]]"}, 503),
        ({}, BODY, 401),  # no key: the page can still read why
    ]
    for headers, body, status in cases:
        response = await client.post(url, json=body, headers={"Origin": listed, **headers})
        assert response.status_code == status, response.text
        assert response.headers["access-control-allow-origin"] == listed
        assert "origin" in header_set(response.headers.get("vary"))
        exposed = header_set(response.headers["access-control-expose-headers"])
        assert {"retry-after", "x-request-id"} <= exposed
        assert "access-control-allow-credentials" not in response.headers


async def test_an_unlisted_origin_gets_no_cors_headers(
    cors_server: Server, origins: list[str], client: httpx.AsyncClient
) -> None:
    for origin in (origins[1], "null", f"{origins[0]}.evil.example", "https://127.0.0.1"):
        preflight = await client.options(
            f"{cors_server.url}/v1/messages/stream", headers=preflight_headers(origin)
        )
        assert cors_headers(preflight) == {}, origin
        assert "origin" in header_set(preflight.headers.get("vary"))
        post = await client.post(
            f"{cors_server.url}/v1/messages",
            json=BODY,
            headers={"Origin": origin, "Authorization": f"Bearer {KEY}"},
        )
        assert cors_headers(post) == {}, origin


async def test_without_the_setting_there_is_no_cross_origin_access(
    server: Server, client: httpx.AsyncClient
) -> None:
    origin = "http://127.0.0.1:3000"
    preflight = await client.options(
        f"{server.url}/v1/messages/stream", headers=preflight_headers(origin)
    )
    assert preflight.status_code == 200 and cors_headers(preflight) == {}
    post = await client.post(f"{server.url}/v1/messages", json=BODY, headers={"Origin": origin})
    assert post.status_code == 200 and cors_headers(post) == {}


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("", ()),
        (" , ", ()),
        ("https://App.Example.com/", ("https://app.example.com",)),
        (
            "http://localhost:3000, https://a.example,http://localhost:3000",
            ("http://localhost:3000", "https://a.example"),
        ),
        ("http://[::1]:8080", ("http://[::1]:8080",)),
    ],
)
def test_origins_are_read_as_browsers_send_them(value: str, origins: tuple[str, ...]) -> None:
    env = {"OPENAI_API_KEY": "sk", "MESSAGEBOT_CORS_ORIGINS": value}
    assert Settings.from_env(env).cors_origins == origins


@pytest.mark.parametrize(
    "value",
    ["*", "https://a.example, *", "https://a.example/app", "a.example", "ftp://a.example", "null"],
)
def test_origins_that_would_match_nothing_or_everything_stop_the_start(value: str) -> None:
    with pytest.raises(ConfigError, match="MESSAGEBOT_CORS_ORIGINS"):
        Settings.from_env({"OPENAI_API_KEY": "sk", "MESSAGEBOT_CORS_ORIGINS": value})


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("https://app.example.com:443", "drop the default port :443 .*https://app.example.com,"),
        (
            "http://localhost:3000, http://localhost:80",
            "drop the default port :80 .*http://localhost,",
        ),
        ("http://[::1]:80", r"drop the default port :80 .*http://\[::1\],"),
        ("http://localhost:99999", "port 99999; a port is from 1 to 65535"),
        ("http://localhost:0", "port 0; a port is from 1 to 65535"),
        ("http://localhost:65536", "port 65536; a port is from 1 to 65535"),
        ("http://localhost:08080", "without leading zeros.*http://localhost:8080,"),
    ],
)
def test_a_port_a_browser_never_sends_stops_the_start(value: str, why: str) -> None:
    with pytest.raises(ConfigError, match=f"^MESSAGEBOT_CORS_ORIGINS: .*{why}"):
        Settings.from_env({"OPENAI_API_KEY": "sk", "MESSAGEBOT_CORS_ORIGINS": value})


@pytest.mark.parametrize(
    "value",
    ["https://app.example.com:8443", "http://localhost:443", "http://localhost:65535"],
)
def test_a_port_that_is_not_the_default_is_kept(value: str) -> None:
    env = {"OPENAI_API_KEY": "sk", "MESSAGEBOT_CORS_ORIGINS": value}
    assert Settings.from_env(env).cors_origins == (value,)


async def test_the_server_does_not_start_with_an_origin_that_never_matches() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "messagebot.cli",
        "serve",
        "--port",
        "0",
        env={
            **os.environ,
            "OPENAI_API_KEY": "sk",
            "MESSAGEBOT_CORS_ORIGINS": "https://app.example.com:443",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(process.communicate(), 20)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 2, err.decode()
    assert err.decode().strip() == (
        "messagebot: configuration error: MESSAGEBOT_CORS_ORIGINS: drop the default port :443 "
        "from 'https://app.example.com:443': browsers send https://app.example.com, "
        "which would never match"
    )


# What the original React client did (the seed's reader loop), with a key, from another origin.
STREAM_FROM_PAGE = """async ({url, key, body, requestId}) => {
  const response = await fetch(url, {
    method: "POST",
    headers: {"Content-Type": "application/json", "Authorization": `Bearer ${key}`,
              "X-Request-ID": requestId},
    body: JSON.stringify(body),
  });
  const headers = {requestId: response.headers.get("X-Request-ID"),
                   retryAfter: response.headers.get("Retry-After")};
  if (!response.ok) return {status: response.status, headers, body: await response.json()};
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let raw = "", reads = 0;
  while (true) {
    const {done, value} = await reader.read();
    if (done) break;
    reads += 1;
    raw += decoder.decode(value, {stream: true});
  }
  return {status: response.status, headers, raw, reads};
}"""


def events_of(raw: str) -> list[tuple[str, str]]:
    events = []
    for block in raw.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
        )
        if "event" in fields:
            events.append((fields["event"], fields["data"]))
    return events


async def test_a_page_on_a_listed_origin_streams_a_message_with_a_key(
    cors_server: Server, origins: list[str], browser: Browser
) -> None:
    page, errors = await open_page(browser, origins[0])
    request_id = f"cors-{uuid.uuid4().hex[:8]}"
    result = await page.evaluate(
        STREAM_FROM_PAGE,
        {
            "url": f"{cors_server.url}/v1/messages/stream",
            "key": KEY,
            "body": {**BODY, "reason": "birthday [[fake chunks=6 delay=0.05]]"},
            "requestId": request_id,
        },
    )
    assert result["status"] == 200
    assert result["headers"]["requestId"] == request_id  # exposed: readable by the page
    events = events_of(result["raw"])
    assert events[0][0] == "start" and events[-1][0] == "done"
    text = "".join(json.loads(data)["text"] for name, data in events if name == "delta")
    assert text and text == json.loads(events[-1][1])["message"]
    assert result["reads"] > 1  # it came in pieces, as written

    # A busy upstream: the page reads the JSON error and Retry-After.
    busy = await page.evaluate(
        STREAM_FROM_PAGE,
        {
            "url": f"{cors_server.url}/v1/messages",
            "key": KEY,
            "body": {**BODY, "reason": "birthday [[fake status=429 retry_after=7]]"},
            "requestId": request_id,
        },
    )
    assert busy["status"] == 503 and busy["body"]["error"]["code"] == "busy"
    assert busy["headers"]["retryAfter"] == "7"
    # A wrong key: a readable 401, not a network error.
    refused = await page.evaluate(
        STREAM_FROM_PAGE,
        {
            "url": f"{cors_server.url}/v1/messages/stream",
            "key": "wrong",
            "body": BODY,
            "requestId": request_id,
        },
    )
    assert refused["status"] == 401 and refused["body"]["error"]["code"] == "unauthorized"
    assert errors == []


async def test_a_page_on_an_unlisted_origin_is_refused(
    cors_server: Server, origins: list[str], browser: Browser
) -> None:
    page, _ = await open_page(browser, origins[1])
    outcome = await page.evaluate(
        """async ({url, key}) => {
            try {
              await fetch(url, {method: "POST", body: '{"relation":"wife","reason":"birthday"}',
                                headers: {"Content-Type": "application/json",
                                          "Authorization": `Bearer ${key}`}});
              return "answered";
            } catch (error) { return `${error.name}: ${error.message}`; }
        }""",
        {"url": f"{cors_server.url}/v1/messages/stream", "key": KEY},
    )
    assert outcome == "TypeError: Failed to fetch"
