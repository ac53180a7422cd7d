"""The page without JavaScript (issue 25), in Debian's Chromium at a phone's and a desktop's
size, against the whole app and the fake upstream over loopback: the 한국어 | English switch
keeps what was typed and the messages on screen (a POST: nothing personal in a URL); Enter in
a field writes rather than switching; a draft alone is rewritten (relation and reason are
optional with one); a refinement rewrites its card alone, spending one message of the page's
budget as the JavaScript page does."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from messagebot.fake_upstream import FakeUpstream

from .browser import SIZES
from .helpers import Server, openai_env, running
from .test_page import OPENING, assert_friendly
from .test_page_cards import variants

CARDS = ("#message", "#message-2", "#message-3")


async def no_js_page(
    url: str, browser: Browser, contexts: list[Any], viewport: dict[str, int]
) -> Page:
    context = await browser.new_context(
        viewport=viewport, locale="en-US", java_script_enabled=False
    )
    contexts.append(context)
    page = await context.new_page()
    await page.goto(f"{url}/")
    return page


async def cards(page: Page) -> list[str]:
    return [await page.locator(card).inner_text() for card in CARDS]


async def post(page: Page, click: Any) -> httpx.Response | Any:
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await click()
    return await answer.value


async def test_the_language_switch_keeps_the_form_and_the_messages(
    server: Server, browser: Browser, contexts: list[Any], viewport: dict[str, int]
) -> None:
    page = await no_js_page(server.url, browser, contexts, viewport)
    await page.locator("#relation").fill("wife")
    await page.locator("#reason").fill("birthday")
    await page.locator("#name").fill("Minji")
    await page.locator("#manner").fill("warm")
    await page.locator("#max_length").fill("300")
    assert (await post(page, page.locator("#write").click)).status == 200
    texts = await cards(page)
    assert all(re.match(OPENING, text) for text in texts) and len(set(texts)) == 3, texts
    await page.locator("#draft").fill("my own words, not sent yet")

    answer = await post(page, page.get_by_role("button", name="한국어").click)
    assert answer.status == 200
    assert "?" not in answer.url and "Minji" not in answer.url  # posted, not in the URL
    await expect(page.locator("html")).to_have_attribute("lang", "ko")
    await expect(page.get_by_label("누구에게 보내나요?", exact=True)).to_have_value("wife")
    await expect(page.get_by_label("어떤 날인가요?", exact=True)).to_have_value("birthday")
    await expect(page.locator("#name")).to_have_value("Minji")
    await expect(page.locator("#manner")).to_have_value("warm")
    await expect(page.locator("#max_length")).to_have_value("300")
    await expect(page.locator("#draft")).to_have_value("my own words, not sent yet")
    # The message's language followed the page's: the person had not picked one.
    await expect(page.locator("#language")).to_have_value("ko")
    assert await cards(page) == texts
    await expect(page.locator("#count")).to_have_text(f"{len(texts[0])} / 300자")
    await expect(page.get_by_role("button", name="짧게", exact=True).first).to_be_visible()
    await expect(page.get_by_role("button", name="한국어")).to_have_attribute(
        "aria-current", "page"
    )

    # Back, with a message language picked by hand: it stays.
    await page.locator("#language").select_option("ja")
    assert (await post(page, page.get_by_role("button", name="English").click)).status == 200
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#language")).to_have_value("ja")
    assert await cards(page) == texts
    # Remembered: the next visit is in the language chosen last.
    await page.goto(f"{server.url}/")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    assert_friendly(await page.locator("body").inner_text())


async def test_enter_in_a_field_writes_rather_than_switching(
    server: Server, browser: Browser, contexts: list[Any]
) -> None:
    page = await no_js_page(server.url, browser, contexts, SIZES["desktop"])
    await page.locator("#relation").fill("wife")
    await page.locator("#reason").fill("birthday")
    answer = await post(page, lambda: page.locator("#reason").press("Enter"))
    assert answer.status == 200 and answer.url.removesuffix("#result").endswith("/")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    assert all(re.match(OPENING, text) for text in await cards(page))


async def test_a_draft_alone_is_rewritten(
    server: Server, browser: Browser, contexts: list[Any], viewport: dict[str, int]
) -> None:
    page = await no_js_page(server.url, browser, contexts, viewport)
    await page.locator("#draft").fill("sorry i couldnt make it saturday, drinks on me next week?")
    answer = await post(page, page.locator("#write").click)
    assert answer.status == 200
    texts = await cards(page)
    assert all(texts) and len(set(texts)) == 3, texts
    await expect(page.locator("#form-error")).to_be_empty()


async def test_nothing_typed_gets_the_servers_sentences_in_the_form(
    server: Server, browser: Browser, contexts: list[Any]
) -> None:
    page = await no_js_page(server.url, browser, contexts, SIZES["desktop"])
    assert (await post(page, page.locator("#write").click)).status == 422
    await expect(page.locator("#relation-error")).to_have_text(
        "Tell us who it's for: pick one or type it."
    )
    await expect(page.locator("#relation")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#form-error")).to_have_text("Please check the marked fields.")
    assert_friendly(await page.locator("body").inner_text())


async def test_a_refinement_spends_one_message_of_the_page_budget(
    fake: FakeUpstream, browser: Browser, contexts: list[Any], client: httpx.AsyncClient
) -> None:
    """With API keys set the form has the page's budget (MESSAGEBOT_PAGE_RATE_LIMIT, its
    default: 20 a minute): a write spends three, a refinement one (as on the JavaScript
    page, test_page_cards.py)."""
    async with running(openai_env(fake, MESSAGEBOT_API_KEYS="k-test")) as locked:
        page = await no_js_page(locked.url, browser, contexts, SIZES["desktop"])
        await page.locator("#relation").fill("wife")
        scripted = ["Happy birthday, love.", "Wishing you joy.", "Lucky me.", "With all my love."]
        key = await variants(client, fake, scripted)
        await page.locator("#reason").fill(f"birthday [[fake reply={key}]]")
        wrote = await post(page, page.locator("#write").click)
        assert wrote.status == 200 and wrote.headers["ratelimit-remaining"] == "17"
        texts = await cards(page)
        refined = await post(
            page, page.locator("#choice-3").get_by_role("button", name="Warmer").click
        )
        assert refined.status == 200 and refined.headers["ratelimit-remaining"] == "16"
        again = await cards(page)
        assert again == [*texts[:2], scripted[3]]


async def test_a_write_that_fails_keeps_the_messages_on_screen(
    server: Server, browser: Browser, contexts: list[Any], viewport: dict[str, int]
) -> None:
    page = await no_js_page(server.url, browser, contexts, viewport)
    await page.locator("#relation").fill("wife")
    await page.locator("#reason").fill("birthday")
    assert (await post(page, page.locator("#write").click)).status == 200
    texts = await cards(page)
    await page.locator("#reason").fill("birthday [[fake status=500]]")
    assert (await post(page, page.locator("#write").click)).status >= 500
    await expect(page.locator("#form-error")).to_have_text(
        "The writing service had a problem. Please try again."
    )
    assert await cards(page) == texts
    assert_friendly(await page.locator("body").inner_text())


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/language", {"switch": "ko", "shown": ["a", "b", "c", "d"]}),  # more than the cards
        ("/language", {"switch": "ko", "shown": ["x" * 1001]}),  # longer than any message
        ("/", {"relation": "wife", "reason": "birthday", "refined": "3"}),  # no such card
        ("/", {"draft": "hello", "manner": "shorter", "refined": "one"}),
    ],
)
async def test_a_broken_form_is_a_400_page(
    server: Server, client: httpx.AsyncClient, path: str, form: dict[str, Any]
) -> None:
    response = await client.post(f"{server.url}{path}", data=form)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    said = re.search(r'<p id="form-error" class="alert" role="alert">([^<]*)</p>', response.text)
    assert said is not None and said.group(1).strip(), "a sentence in the form's alert"
    assert_friendly(said.group(1))


async def test_the_switch_from_another_site_is_refused(
    server: Server, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        f"{server.url}/language",
        data={"switch": "ko"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
