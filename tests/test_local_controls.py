"""The controls do what they say on the embedded model (issue 26): "Write another" writes
another message, a long message is long, and a language the model cannot write is refused
(never English labelled `ja`). The real bundled Gemma 3 270M, one thread: slow."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser

from messagebot.text import examples

from .helpers import Server, assert_error, running

LOCAL = {"MESSAGEBOT_PROVIDER": "local", "MESSAGEBOT_LOCAL_THREADS": "1"}


@pytest.fixture(scope="module")
async def local_server() -> AsyncIterator[Server]:
    # A fixed seed: what these tests check must not depend on a random draw.
    async with running({**LOCAL, "MESSAGEBOT_LOCAL_SEED": "7"}) as served:
        yield served


async def _write(client: httpx.AsyncClient, server: Server, body: dict[str, Any]) -> str:
    response = await client.post(f"{server.url}/v1/messages", json=body, timeout=180)
    assert response.status_code == 200, response.text
    message: str = response.json()["message"]
    return message


# --- "Write another" -------------------------------------------------------------------------


def test_a_variant_draws_other_examples_and_the_same_variant_the_same() -> None:
    """Graduation has exactly five near examples in English: before, every request showed the
    same five in the same order, and the model copied the last one."""
    key = ("en", "graduation", "friend", "", "warm", 200)
    drawn = {examples.select(*key, variant=variant) for variant in range(20)}
    assert len({shown[-1] for shown in drawn}) >= 3  # the one the model copies most varies
    assert examples.select(*key, variant=7) == examples.select(*key, variant=7)
    assert examples.select(*key) == examples.select(*key, variant=None)


def test_a_drawn_example_is_never_of_another_occasion_when_this_one_has_five() -> None:
    for variant in range(50):
        for shown in (
            examples.select("en", "graduation", "friend", "", "warm", 200, variant=variant),
            examples.select("ko", "birthday", "friend", "banmal", "warm", 120, "아", variant),
        ):
            assert {example.occasion for example in shown} == {shown[-1].occasion}, shown


async def test_write_another_writes_another_message(client: httpx.AsyncClient) -> None:
    """Four requests: before, "graduation" gave the same text 4 of 4 times, whatever the seed
    (docs/local-model.md). Without MESSAGEBOT_LOCAL_SEED each request draws its own seed, and
    with it its examples; here four fixed seeds stand for four such draws, so that the test
    does not depend on luck (four random draws once gave 2 different of 4 in a fresh-clone
    run, which the 'at least 3' below may refuse)."""
    body = {"name": "Alex", "relation": "friend", "reason": "graduation", "max_length": 200}
    messages = []
    for seed in (1, 2, 3, 4):
        async with running({**LOCAL, "MESSAGEBOT_LOCAL_SEED": str(seed)}) as server:
            messages.append(await _write(client, server, body))
    assert len(set(messages)) >= 3, messages


# --- length ----------------------------------------------------------------------------------


_NOT_YET = pytest.mark.xfail(
    reason="open: the 270M base model ends its line near its examples' length; at 200 and 400 "
    "it writes 26-235 characters. Keeping it from ending before half of max_length was tried "
    "twice and not kept: it pads with filler that a reader would not send (docs/local-model.md, "
    "Length)",
    strict=False,
)


@pytest.mark.parametrize(
    ("body", "max_length"),
    [
        ({"name": "Sophie", "relation": "friend", "reason": "birthday"}, 60),
        ({"name": "김영희", "relation": "선생님", "reason": "스승의 날"}, 60),
        pytest.param(
            {"name": "Sophie", "relation": "friend", "reason": "birthday"}, 400, marks=_NOT_YET
        ),
        pytest.param({"name": "소희", "relation": "친구", "reason": "생일"}, 200, marks=_NOT_YET),
    ],
)
async def test_a_message_is_at_least_half_as_long_as_asked(
    local_server: Server, client: httpx.AsyncClient, body: dict[str, str], max_length: int
) -> None:
    """What the person sees: before, "Long 400" gave 37-64 characters."""
    for _ in range(2):
        message = await _write(client, local_server, {**body, "max_length": max_length})
        assert max_length / 2 <= len(message) <= max_length, (len(message), message)


# --- languages -------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ja", "zh", "es", "zh-Hant-TW", "fr"])
@pytest.mark.parametrize("route", ["/v1/messages", "/v1/messages/stream"])
async def test_a_language_the_model_cannot_write_is_refused(
    local_server: Server, client: httpx.AsyncClient, language: str, route: str
) -> None:
    body = {"relation": "friend", "reason": "birthday", "language": language}
    response = await client.post(f"{local_server.url}{route}", json=body, timeout=60)
    error = assert_error(response, 422, "invalid_request")
    assert set(error["fields"]) == {"language"}, error  # type: ignore[arg-type]
    assert "en (English)" in str(error["message"]) and "ko (Korean)" in str(error["message"])
    assert "writes only" in error["fields"]["language"]  # type: ignore[index]


async def test_a_detected_language_the_model_cannot_write_is_refused(
    local_server: Server, client: httpx.AsyncClient
) -> None:
    """Kana in the fields means Japanese: a clear 422, not English labelled `ja`."""
    body = {"name": "ゆき", "relation": "ともだち", "reason": "おたんじょうび"}
    response = await client.post(f"{local_server.url}/v1/messages", json=body, timeout=60)
    error = assert_error(response, 422, "invalid_request")
    assert set(error["fields"]) == {"language"}, error  # type: ignore[arg-type]
    assert "detected" in str(error["message"]) and "Japanese" in str(error["message"])


async def _offered(browser: Browser, url: str) -> list[str]:
    context = await browser.new_context(locale="en-US")
    try:
        page = await context.new_page()
        await page.goto(url)
        values: list[str] = await page.locator("#language option").evaluate_all(
            "options => options.map(option => option.value)"
        )
        return values
    finally:
        await context.close()


async def test_the_page_offers_only_what_the_local_model_writes(
    local_server: Server, server: Server, browser: Browser, client: httpx.AsyncClient
) -> None:
    assert await _offered(browser, local_server.url) == ["ko", "en"]
    assert {"ja", "zh", "es"} <= set(await _offered(browser, server.url))  # an upstream: all
    # The no-JavaScript form is the same select; a hand-made post of another is refused there.
    page = (await client.get(f"{local_server.url}/")).text
    select = re.search(r'<select id="language".*?</select>', page, re.DOTALL)
    assert select and re.findall(r'<option value="([^"]+)"', select.group()) == ["ko", "en"]
    token = re.search(r'name="page_token" value="([^"]+)"', page)
    form = {"relation": "friend", "reason": "birthday", "language": "ja"}
    if token:
        form["page_token"] = token.group(1)
    response = await client.post(
        f"{local_server.url}/", data=form, headers={"Origin": local_server.url}, timeout=60
    )
    assert response.status_code == 422, response.text[:500]
    assert re.search(r'id="language-error">[^<]+</p>', response.text), response.text[-3000:]
