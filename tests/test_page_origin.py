"""The form page belongs to its own origin: no CORS on `GET /` and `POST /` (no other origin's
script reads the page or its token, even one MESSAGEBOT_CORS_ORIGINS lists), and a `POST /` sent
from another site (CSRF: a page elsewhere that submits a form to ours) is refused with 403
`forbidden` before it spends a budget or model time. Raw requests against the whole app in
Hypercorn, then Chromium with pages on other loopback origins."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect

from messagebot.fake_upstream import FakeUpstream

from .client_support import open_page, other_origins
from .helpers import Server, fake_log, openai_env, running
from .test_page import OPENING

KEY = "k-page-origin-test"
SENTENCE = "This form was sent from another site, so nothing was written."

# Headers a browser sends with a POST / from another site; {own} is the server's origin,
# {listed} the origin MESSAGEBOT_CORS_ORIGINS lists.
REFUSED = [
    {"Sec-Fetch-Site": "cross-site"},
    # Another port of this host, or a sibling subdomain: the same site, another origin.
    {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "{own}"},
    {"Origin": "{listed}"},
    {"Origin": "http://127.0.0.1:1"},
    {"Origin": "{own}.evil.example"},
    {"Origin": "null"},  # a sandboxed frame, a data: URL
]
# A browser's form on this page, a form the visitor sends by hand, an old browser, curl.
ALLOWED = [
    {"Sec-Fetch-Site": "same-origin", "Origin": "{own}"},
    {"Sec-Fetch-Site": "none"},
    {"Origin": "{own}"},
    {},
]


def filled(headers: dict[str, str], own: str, listed: str) -> dict[str, str]:
    return {name: value.format(own=own, listed=listed) for name, value in headers.items()}


def tagged(tag: str) -> dict[str, str]:
    return {"relation": "wife", "reason": f"birthday [[fake tag={tag}]]"}


async def page_token(client: httpx.AsyncClient, url: str) -> str:
    """What anyone can do: load the page and take its token (tokens are not bound to a browser,
    so a page elsewhere can carry one in its forged form)."""
    page = await client.get(f"{url}/")
    found = re.search(r'<meta name="messagebot-token" content="([^"]+)">', page.text)
    assert found, "no token in the page"
    return found.group(1)


async def stats(client: httpx.AsyncClient, url: str) -> dict[str, Any]:
    response = await client.get(f"{url}/v1/stats", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
async def origins() -> AsyncIterator[list[str]]:
    async with other_origins(2) as urls:
        yield urls  # [listed, unlisted]


@pytest.fixture(scope="module")
async def locked(fake: FakeUpstream, origins: list[str]) -> AsyncIterator[Server]:
    """Keys (so the form needs the page's token), a listed origin, and the page's budget."""
    env = openai_env(
        fake,
        MESSAGEBOT_API_KEYS=KEY,
        MESSAGEBOT_CORS_ORIGINS=origins[0],
        MESSAGEBOT_PAGE_RATE_LIMIT="100/minute",
    )
    async with running(env) as served:
        yield served


async def test_a_cross_site_form_is_refused_before_it_spends_the_budget_or_the_model(
    fake: FakeUpstream, origins: list[str], client: httpx.AsyncClient
) -> None:
    env = openai_env(
        fake,
        MESSAGEBOT_API_KEYS=KEY,
        MESSAGEBOT_CORS_ORIGINS=origins[0],
        MESSAGEBOT_PAGE_RATE_LIMIT="3/minute",  # one write of the form's three
    )
    async with running(env) as server:
        token = await page_token(client, server.url)
        before = await stats(client, server.url)
        tags = []
        for headers in REFUSED:
            tag = f"csrf-{uuid.uuid4().hex[:8]}"
            tags.append(tag)
            response = await client.post(
                f"{server.url}/",
                data={**tagged(tag), "page_token": token},
                headers=filled(headers, server.url, origins[0]),
            )
            assert response.status_code == 403, (headers, response.text[-300:])
            assert response.headers["content-type"].startswith("text/html")
            assert SENTENCE in response.text
            assert "<form" in response.text and "Traceback" not in response.text
            assert not any(name.startswith("ratelimit-") for name in response.headers), headers
            assert not any(name.startswith("access-control-") for name in response.headers)
        # The refusal came before the upstream was asked: no request of theirs reached it.
        for tag in tags:
            assert await fake_log(client, fake.base_url, tag) == []
        after = await stats(client, server.url)
        assert after["messages_generated"] == before["messages_generated"]
        # Seven refusals spent nothing of a budget of one: the page's own form still writes.
        own = await client.post(
            f"{server.url}/",
            data={**tagged("csrf-own"), "page_token": token},
            headers={"Sec-Fetch-Site": "same-origin", "Origin": server.url},
        )
        assert own.status_code == 200, own.text[-300:]
        assert (await stats(client, server.url))["messages_generated"] == (
            before["messages_generated"] + 3  # the form's three
        )


@pytest.mark.parametrize("headers", ALLOWED, ids=["same-origin", "none", "own-origin", "neither"])
async def test_the_pages_own_form_and_clients_without_those_headers_still_write(
    server: Server, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.post(
        f"{server.url}/", data=tagged("own"), headers=filled(headers, server.url, "")
    )
    assert response.status_code == 200, response.text[-300:]
    assert 'id="message"' in response.text and "Happy birthday!" in response.text


async def test_a_link_to_the_page_from_another_site_still_opens_it(
    server: Server, client: httpx.AsyncClient
) -> None:
    headers = {"Sec-Fetch-Site": "cross-site", "Origin": "https://elsewhere.example"}
    response = await client.get(f"{server.url}/", headers=headers)
    assert response.status_code == 200 and "<form" in response.text


async def test_the_page_is_out_of_cors_even_for_a_listed_origin(
    locked: Server, origins: list[str], client: httpx.AsyncClient
) -> None:
    listed = origins[0]
    page = await client.get(f"{locked.url}/", headers={"Origin": listed})
    assert page.status_code == 200
    assert not any(name.startswith("access-control-") for name in page.headers)
    for method in ("GET", "POST"):
        preflight = await client.options(
            f"{locked.url}/",
            headers={
                "Origin": listed,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert not any(name.startswith("access-control-") for name in preflight.headers)
    # The API keeps its CORS for the listed origin.
    api = await client.post(
        f"{locked.url}/v1/messages",
        json=tagged("cors-api"),
        headers={"Origin": listed, "Authorization": f"Bearer {KEY}"},
    )
    assert api.status_code == 200
    assert api.headers["access-control-allow-origin"] == listed


# What a page elsewhere does to write with our page's budget: read the page for its token,
# then send the no-JavaScript form with it.
READ_THE_PAGE_THEN_POST = """async ({url, tag}) => {
  try {
    const page = await (await fetch(url)).text();
    const token = page.match(/name="messagebot-token" content="([^"]+)"/)[1];
    const body = new URLSearchParams({relation: "wife", reason: `birthday [[fake tag=${tag}]]`,
                                      page_token: token});
    const answer = await fetch(url, {method: "POST", body});
    return `answered ${answer.status}`;
  } catch (error) { return `${error.name}: ${error.message}`; }
}"""

# A page elsewhere that submits a form to ours as soon as it loads (CSRF).
SUBMIT_A_FORM = """({url, fields}) => {
  const form = document.createElement("form");
  form.method = "POST";
  form.action = url;
  for (const [name, value] of Object.entries(fields)) {
    const input = document.createElement("input");
    input.name = name;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  form.submit();
}"""


async def test_a_listed_origins_script_cannot_read_the_page_or_use_its_token(
    fake: FakeUpstream,
    locked: Server,
    origins: list[str],
    browser: Browser,
    client: httpx.AsyncClient,
) -> None:
    page, errors = await open_page(browser, origins[0])
    tag = f"cors-page-{uuid.uuid4().hex[:8]}"
    outcome = await page.evaluate(READ_THE_PAGE_THEN_POST, {"url": f"{locked.url}/", "tag": tag})
    assert outcome == "TypeError: Failed to fetch"
    assert await fake_log(client, fake.base_url, tag) == []
    assert errors == []
    await page.context.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"], ids=["same-site", "cross-site"])
async def test_a_form_another_origin_submits_is_refused_in_chromium(
    fake: FakeUpstream,
    locked: Server,
    origins: list[str],
    browser: Browser,
    client: httpx.AsyncClient,
    host: str,
) -> None:
    # Another port of the same loopback address is the same site to a browser; `localhost` is
    # another site than 127.0.0.1. Either way, another origin.
    elsewhere = origins[1].replace("127.0.0.1", host)
    page, _ = await open_page(browser, elsewhere)
    tag = f"csrf-chromium-{uuid.uuid4().hex[:8]}"
    before = await stats(client, locked.url)
    fields = {**tagged(tag), "page_token": await page_token(client, locked.url)}
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await page.evaluate(SUBMIT_A_FORM, {"url": f"{locked.url}/", "fields": fields})
    response = await answer.value
    sent = await response.request.all_headers()
    assert sent["origin"] == elsewhere
    assert sent["sec-fetch-site"] == ("same-site" if host == "127.0.0.1" else "cross-site")
    assert response.status == 403
    await expect(page.locator("#form-error")).to_contain_text(SENTENCE)
    assert await fake_log(client, fake.base_url, tag) == []
    assert (await stats(client, locked.url))["messages_generated"] == before["messages_generated"]

    # The page's own form, without JavaScript, on its own origin, still writes.
    context = await browser.new_context(locale="en-US", java_script_enabled=False)
    own = await context.new_page()
    await own.goto(f"{locked.url}/")
    await own.locator("#relation").fill("wife")
    await own.locator("#reason").fill("birthday")
    async with own.expect_response(lambda r: r.request.method == "POST") as answer:
        await own.locator("#write").click()
    written = await answer.value
    assert (await written.request.all_headers())["sec-fetch-site"] == "same-origin"
    assert written.status == 200
    await expect(own.locator("#message")).to_have_text(re.compile(OPENING))
    assert (await stats(client, locked.url))["messages_generated"] == (
        before["messages_generated"] + 3  # the page's three
    )
    await context.close()
    await page.context.close()
