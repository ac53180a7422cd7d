"""The form page in a real browser: Debian's Chromium driven by Playwright, against the whole app
in Hypercorn and the fake upstream, over loopback."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from messagebot.fake_upstream import FakeUpstream
from messagebot.web.page_token import verify_page_token

from .helpers import Server, fake_log, openai_env, running, wait_for_record, wait_until

PHONE = {"width": 420, "height": 900}
DESKTOP = {"width": 1280, "height": 900}
DOCS = Path(__file__).resolve().parent.parent / "docs"
CSP_DIRECTIVES = (
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
)

OpenPage = Callable[..., Awaitable[Page]]

# The page asks for three messages; the fake writes each from its own seed, its default text's
# sentences rotated (messagebot/fake_upstream.py), so a card begins with any of them.
OPENING = r"^(Happy birthday!|Wishing you|Tonight's plan|Thank you for)"
OPENING_KO = r"^(생일 축하해!|오늘 하루|저녁 계획|올해도|항상 곁에)"


class Browsing:
    """Opens pages in fresh contexts and keeps every CSP violation any of them reports."""

    def __init__(self, browser: Browser) -> None:
        self.browser = browser
        self.violations: list[str] = []
        self._contexts: list[Any] = []

    async def open(self, **options: Any) -> Page:
        context = await self.browser.new_context(**{"viewport": PHONE, **options})
        self._contexts.append(context)
        page = await context.new_page()
        page.on("console", self._console)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)

    async def close(self) -> None:
        for context in self._contexts:
            await context.close()


@pytest.fixture
async def browsing(browser: Browser) -> AsyncIterator[Browsing]:
    tabs = Browsing(browser)
    yield tabs
    await tabs.close()
    assert tabs.violations == [], "the page broke its own Content-Security-Policy"


@pytest.fixture
async def page(browsing: Browsing) -> Page:
    return await browsing.open(locale="en-US")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def fill_and_write(page: Page, reason: str, relation: str = "wife") -> None:
    await page.get_by_role("button", name=relation, exact=True).click()
    await page.locator("#reason").fill(reason)
    await page.locator("#write").click()


async def visible_text(page: Page) -> str:
    return await page.locator("body").inner_text()


def assert_friendly(text: str) -> None:
    """No JSON, no error codes, no traceback: only sentences."""
    for raw in ("{", '"error"', "Traceback", "upstream_error", "rate_limited", "invalid_request"):
        assert raw not in text


async def record_changes(page: Page) -> None:
    await page.evaluate(
        """() => {
            window.seen = [];
            const message = document.getElementById("message");
            const count = document.getElementById("count");
            new MutationObserver(() => window.seen.push([message.textContent, count.textContent]))
                .observe(document.getElementById("result"),
                         {subtree: true, childList: true, characterData: true});
        }"""
    )


async def test_generate_streams_the_message_into_the_page(server: Server, page: Page) -> None:
    await page.goto(f"{server.url}/")
    await record_changes(page)
    await page.get_by_label("Their name").fill("Minji")
    await fill_and_write(page, "birthday [[fake chunks=16 delay=0.08]]")

    # While it writes: Stop is offered, the Write button waits.
    await expect(page.locator("#stop")).to_be_visible()
    await expect(page.locator("#stop")).to_be_focused()
    await expect(page.locator("#write")).to_be_disabled()
    await expect(page.locator("#message")).to_have_attribute("aria-busy", "true")

    await expect(page.locator("#copy")).to_be_visible(timeout=10_000)
    message = await page.locator("#message").text_content()
    assert message and re.match(OPENING, message)
    await expect(page.locator("#count")).to_have_text(f"{len(message)} / 200 characters")
    await expect(page.locator("#stop")).to_be_hidden()
    await expect(page.locator("#copy")).to_be_focused()
    await expect(page.locator("#message")).to_have_attribute("aria-busy", "false")
    await expect(page.locator("#message")).to_have_attribute("aria-live", "polite")

    seen: list[list[str]] = await page.evaluate("window.seen")
    texts = [text for text, _ in seen if text]
    distinct = list(dict.fromkeys(texts))
    assert len(distinct) >= 8, "the message arrived in one piece, not as it was written"
    for shorter, longer in itertools.pairwise(distinct):
        assert longer.startswith(shorter)
    assert distinct[-1] == message
    # The count follows the text as it grows.
    for text, count in seen:
        if text:
            assert count == f"{len(text)} / 200 characters"


async def test_heartbeats_between_pieces_change_nothing(
    fake: FakeUpstream, browsing: Browsing
) -> None:
    async with running(openai_env(fake, MESSAGEBOT_HEARTBEAT_S="0.05")) as chatty:
        page = await browsing.open(locale="en-US")
        await page.goto(f"{chatty.url}/")
        await fill_and_write(page, "birthday [[fake chunks=5 delay=0.3]]")
        await expect(page.locator("#copy")).to_be_visible(timeout=10_000)
        await expect(page.locator("#message")).to_have_text(
            re.compile(r"^(?=" + OPENING[1:] + r")(\S+ ){4}\S+ ?$")
        )
        await expect(page.locator("#form-error")).to_be_hidden()


async def test_stop_ends_the_generation_upstream(
    server: Server, fake: FakeUpstream, page: Page, client: httpx.AsyncClient
) -> None:
    tag = unique("stop")
    await page.goto(f"{server.url}/")
    await fill_and_write(page, f"birthday [[fake chunks=80 delay=0.1 tag={tag}]]")
    await expect(page.locator("#message")).to_contain_text("Wishing you a day")
    await page.locator("#stop").click()

    await expect(page.locator("#note")).to_have_text("Stopped.")
    await expect(page.locator("#stop")).to_be_hidden()
    await expect(page.locator("#copy")).to_be_visible()
    await expect(page.locator("#write")).to_be_enabled()
    partial = await page.locator("#message").text_content()
    assert partial
    await asyncio.sleep(0.5)  # (a check that nothing happens can only watch a while)
    assert await page.locator("#message").text_content() == partial  # nothing more arrives

    record = await wait_for_record(client, fake, tag, "client_closed")
    assert len(await fake_log(client, fake.base_url, tag)) == 3  # the page's three
    assert record["sent"] < 40


async def test_copy_puts_the_message_on_the_clipboard(server: Server, browsing: Browsing) -> None:
    page = await browsing.open(locale="en-US", permissions=["clipboard-read", "clipboard-write"])
    await page.goto(f"{server.url}/")
    await fill_and_write(page, "birthday")
    await expect(page.locator("#copy")).to_be_visible()
    message = await page.locator("#message").text_content()

    await page.locator("#copy").click()
    await expect(page.locator("#copy")).to_have_text("✓ Copied")
    await expect(page.locator("#copy-status")).to_have_text("Copied")
    assert await page.evaluate("navigator.clipboard.readText()") == message
    await expect(page.locator("#copy")).to_have_text("Copy", timeout=4000)


async def test_regenerate_writes_a_new_message(
    server: Server, fake: FakeUpstream, page: Page, client: httpx.AsyncClient
) -> None:
    tag = unique("again")
    await page.goto(f"{server.url}/")
    await fill_and_write(page, f"birthday [[fake chunks=6 tag={tag}]]")
    await expect(page.locator("#copy")).to_be_visible()
    await page.locator("#regenerate").click()
    await expect(page.locator("#stop")).to_be_hidden()
    await expect(page.locator("#regenerate")).to_be_visible()
    assert len(await fake_log(client, fake.base_url, tag)) == 2 * 3  # three each time


@pytest.mark.parametrize(
    ("directive", "sentence"),
    [
        ("status=429 retry_after=7", "The writer is busy right now. Try again in 7 seconds."),
        ("status=500", "The writing service had a problem. Please try again."),
        ("status=400", "The model would not write this one. Try different words."),
    ],
    ids=["busy-503", "upstream-502", "rejected-422"],
)
async def test_refusals_are_friendly_sentences(
    server: Server, page: Page, directive: str, sentence: str
) -> None:
    await page.goto(f"{server.url}/")
    await fill_and_write(page, f"birthday [[fake {directive}]]")
    await expect(page.locator("#form-error")).to_have_text(sentence)
    await expect(page.locator("#result")).to_be_hidden()
    await expect(page.locator("#write")).to_be_enabled()
    assert_friendly(await visible_text(page))


async def test_a_failure_mid_stream_keeps_the_text_and_says_so(server: Server, page: Page) -> None:
    await page.goto(f"{server.url}/")
    await fill_and_write(page, "birthday [[fake chunks=12 delay=0.05 error_after=4]]")
    await expect(page.locator("#form-error")).to_have_text(
        "The writing service had a problem. Please try again."
    )
    await expect(page.locator("#note")).to_have_text("The message stopped partway.")
    await expect(page.locator("#message")).to_have_text(re.compile(OPENING))
    assert_friendly(await visible_text(page))


async def test_rate_limited_keeps_the_last_message(fake: FakeUpstream, browsing: Browsing) -> None:
    # A budget of one write of the page's three.
    async with running(openai_env(fake, MESSAGEBOT_RATE_LIMIT="3/minute")) as limited:
        page = await browsing.open(locale="en-US")
        await page.goto(f"{limited.url}/")
        await fill_and_write(page, "birthday")
        await expect(page.locator("#copy")).to_be_visible()
        first = await page.locator("#message").text_content()

        await page.locator("#regenerate").click()
        await expect(page.locator("#form-error")).to_have_text(
            re.compile(r"^That's a lot of messages in a short time\. Try again in \d+ seconds\.$")
        )
        # A refusal does not cost the person the message they already had.
        await expect(page.locator("#message")).to_have_text(first or "")
        await expect(page.locator("#result")).to_be_visible()
        assert_friendly(await visible_text(page))


async def test_timeout_is_a_friendly_sentence(fake: FakeUpstream, browsing: Browsing) -> None:
    async with running(openai_env(fake, MESSAGEBOT_FIRST_TOKEN_TIMEOUT_S="0.3")) as slow:
        page = await browsing.open(locale="en-US")
        await page.goto(f"{slow.url}/")
        await fill_and_write(page, "birthday [[fake headers_delay=2]]")
        await expect(page.locator("#form-error")).to_have_text(
            "The writing service took too long to answer. Please try again."
        )
        assert_friendly(await visible_text(page))


async def test_field_errors_appear_next_to_their_fields(
    server: Server, page: Page, client: httpx.AsyncClient
) -> None:
    await page.goto(f"{server.url}/")
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if "/v1/" in r.url else None)

    # Checked in the page: nothing is sent.
    await page.locator("#relation").fill("wife")
    await page.locator("#write").click()
    await expect(page.locator("#reason-error")).to_have_text(
        "Tell us the occasion: pick one or type it."
    )
    await expect(page.locator("#reason")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#reason")).to_be_focused()
    assert sent == []

    # Checked by the server (blanks pass the browser's `required`): its 422 names the field.
    await page.locator("#relation").fill("   ")
    await page.locator("#reason").fill("birthday")
    await expect(page.locator("#reason-error")).to_be_hidden()  # typing clears the old error
    await page.locator("#write").click()
    await expect(page.locator("#relation-error")).to_have_text(
        "Tell us who it's for: pick one or type it."
    )
    await expect(page.locator("#relation")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#relation")).to_be_focused()
    await expect(page.locator("#form-error")).to_have_text("Please check the marked fields.")
    assert len(sent) == 1
    assert_friendly(await visible_text(page))


async def test_korean_page_from_accept_language(server: Server, browsing: Browsing) -> None:
    page = await browsing.open(locale="ko-KR")
    await page.goto(f"{server.url}/")
    await expect(page.locator("html")).to_have_attribute("lang", "ko")
    await expect(page.get_by_label("누구에게 보내나요?", exact=True)).to_be_visible()
    await expect(page.get_by_label("어떤 날인가요?", exact=True)).to_be_visible()
    await expect(page.locator("#language")).to_have_value("ko")  # the message follows the page
    for occasion in ("생일", "결혼기념일", "추석", "설날"):
        await expect(page.get_by_role("button", name=occasion, exact=True)).to_be_visible()

    await fill_and_write(page, "생일", relation="아내")
    await expect(page.locator("#copy")).to_have_text("복사")
    await expect(page.locator("#message")).to_have_attribute("aria-busy", "false")
    message = await page.locator("#message").text_content()
    assert message and re.match(OPENING_KO, message)
    await expect(page.locator("#count")).to_have_text(f"{len(message)} / 200자")

    # The switch (in place: test_page_newcomer.py), remembered by a cookie over the browser's
    # Accept-Language; the page asks for it in the background.
    async with page.expect_response(lambda r: "lang=en" in r.url):
        await page.get_by_role("button", name="English").click()
    await expect(page.get_by_label("Who is it for?", exact=True)).to_be_visible()
    await page.goto(f"{server.url}/")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#language")).to_have_value("en")


async def test_korean_errors_are_in_korean(server: Server, browsing: Browsing) -> None:
    page = await browsing.open(locale="ko-KR")
    await page.goto(f"{server.url}/")
    await fill_and_write(page, "생일 [[fake status=429 retry_after=3]]", relation="아내")
    await expect(page.locator("#form-error")).to_have_text(
        "지금은 요청이 많아 바빠요. 3초 뒤에 다시 시도해 주세요."
    )


async def test_without_javascript_the_form_posts(server: Server, browsing: Browsing) -> None:
    page = await browsing.open(locale="en-US", java_script_enabled=False)
    await page.goto(f"{server.url}/")
    await expect(page.locator(".chips").first).to_be_hidden()  # they need JavaScript
    await page.locator("#relation").fill("wife")
    await page.locator("#reason").fill("birthday")
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await page.locator("#write").click()
    response = await answer.value
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    await expect(page.locator("#message")).to_have_text(re.compile(OPENING))
    message = await page.locator("#message").text_content()
    await expect(page.locator("#count")).to_have_text(f"{len(message or '')} / 200 characters")
    await expect(page.locator("#relation")).to_have_value("wife")  # the form keeps its values


@pytest.mark.parametrize(
    ("relation", "reason", "status", "where", "sentence"),
    [
        (
            "wife",
            "birthday [[fake status=429 retry_after=7]]",
            503,
            "#form-error",
            "The writer is busy right now. Try again in 7 seconds.",
        ),
        ("   ", "birthday", 422, "#relation-error", "Tell us who it's for: pick one or type it."),
    ],
    ids=["busy", "field"],
)
async def test_without_javascript_errors_are_pages(
    server: Server,
    browsing: Browsing,
    relation: str,
    reason: str,
    status: int,
    where: str,
    sentence: str,
) -> None:
    page = await browsing.open(locale="en-US", java_script_enabled=False)
    await page.goto(f"{server.url}/")
    await page.locator("#relation").fill(relation)
    await page.locator("#reason").fill(reason)
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await page.locator("#write").click()
    response = await answer.value
    assert response.status == status
    assert response.headers["content-type"].startswith("text/html")
    await expect(page.locator(where)).to_have_text(sentence)
    assert_friendly(await visible_text(page))


async def test_post_without_a_browser_never_gets_json(
    server: Server, client: httpx.AsyncClient
) -> None:
    too_big = await client.post(f"{server.url}/", data={"relation": "x" * 20_000})
    unknown = await client.post(
        f"{server.url}/", content=b"\xff\xfe", headers={"Content-Type": "x"}
    )
    for response, status in ((too_big, 413), (unknown, 422)):
        assert response.status_code == status
        assert response.headers["content-type"].startswith("text/html")
        assert "<form" in response.text and "Traceback" not in response.text


async def test_without_javascript_the_rate_limit_is_a_page(fake: FakeUpstream) -> None:
    form = {"relation": "wife", "reason": "birthday"}
    async with (
        running(openai_env(fake, MESSAGEBOT_RATE_LIMIT="3/minute")) as limited,  # one write
        httpx.AsyncClient() as http,
    ):
        assert (await http.post(f"{limited.url}/", data=form)).status_code == 200
        refused = await http.post(f"{limited.url}/", data=form)
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert int(refused.headers["retry-after"]) > 0
    sentence = f"Try again in {refused.headers['retry-after']} seconds."
    assert "That&#39;s a lot of messages in a short time. " + sentence in refused.text


async def test_the_page_has_a_strict_csp_and_keeps_it(
    server: Server, browsing: Browsing, client: httpx.AsyncClient
) -> None:
    for response in (
        await client.get(f"{server.url}/"),
        await client.post(f"{server.url}/", data={"relation": "wife", "reason": "birthday"}),
    ):
        policy = response.headers["content-security-policy"]
        assert all(directive in policy for directive in CSP_DIRECTIVES)
        assert "unsafe" not in policy
        assert re.search(r"default-src '(none|self)'", policy)

    page = await browsing.open(locale="en-US")
    await page.goto(f"{server.url}/")
    # The page's own script runs (it marks <html>), and an injected inline one does not.
    await expect(page.locator("html")).to_have_class("js")
    await page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
        }"""
    )
    assert await page.evaluate("window.injected === undefined")
    # The browser reports the violation on its console a moment later.
    await wait_until(lambda: browsing.violations, within=5, what="the refused script's report")
    browsing.violations.clear()  # that one was ours


async def test_the_page_carries_a_token_the_script_sends(server: Server, page: Page) -> None:
    secret = server.app.extensions["messagebot"].settings.secret_key
    await page.goto(f"{server.url}/")
    token = await page.locator('meta[name="messagebot-token"]').get_attribute("content")
    assert token and verify_page_token(secret, token)
    async with page.expect_request("**/v1/messages/stream") as sent:
        await fill_and_write(page, "birthday")
    assert (await sent.value).headers["x-page-token"] == token
    await expect(page.locator("#copy")).to_be_visible()


async def test_with_api_keys_the_page_still_writes(fake: FakeUpstream, browsing: Browsing) -> None:
    async with running(openai_env(fake, MESSAGEBOT_API_KEYS="k-test")) as locked:
        page = await browsing.open(locale="en-US")
        await page.goto(f"{locked.url}/")
        await fill_and_write(page, "birthday")
        await expect(page.locator("#copy")).to_be_visible()
        assert (await page.locator("#message").text_content() or "").startswith(
            ("Happy", "Wishing", "Tonight", "Thank")
        )

        no_js = await browsing.open(locale="en-US", java_script_enabled=False)
        await no_js.goto(f"{locked.url}/")
        await no_js.locator("#relation").fill("wife")
        await no_js.locator("#reason").fill("birthday")
        await no_js.locator("#write").click()
        await expect(no_js.locator("#message")).to_have_text(re.compile(OPENING))

        async with httpx.AsyncClient() as http:
            forged = await http.post(
                f"{locked.url}/",
                data={"relation": "wife", "reason": "birthday", "page_token": "forged"},
            )
        assert forged.status_code == 401
        assert "Press “Write message” again." in forged.text
        assert 'name="page_token" value="' in forged.text  # with a fresh one to try again


@pytest.mark.skipif(
    not os.environ.get("MESSAGEBOT_SCREENSHOTS"),
    reason="set MESSAGEBOT_SCREENSHOTS=1 to refresh docs/page*.png",
)
async def test_screenshots(
    server: Server, fake: FakeUpstream, browsing: Browsing, client: httpx.AsyncClient
) -> None:
    # Three messages a language, as the page shows them (the fake sends one a request).
    replies = {
        "docs-en": [
            "Happy birthday, my love! Every year with you is my favourite one yet. "
            "Thank you for the laughter, the patience and the coffee you bring me every morning. "
            "Tonight, dinner is on me.",
            "Happy birthday, Minji. You make ordinary days feel like holidays, and I am "
            "grateful for every one of them. Here's to the year ahead, together.",
            "To my favourite person: happy birthday! Cake, candles and a very long walk are "
            "waiting for you tonight.",
        ],
        "docs-ko": [
            "민지야, 생일 축하해! 당신과 함께한 모든 해가 내 인생 최고의 해였어. "
            "매일 아침 커피를 건네주는 다정함, 늘 웃게 해 주는 당신이 고마워. "
            "오늘 저녁은 내가 쏠게!",
            "생일 축하해, 민지야. 평범한 하루도 당신 덕분에 특별해져. 올해도 곁에서 함께할게.",
            "사랑하는 민지, 생일 축하해! 케이크랑 촛불, 그리고 긴 산책이 오늘 밤 기다리고 있어.",
        ],
    }
    for key, texts in replies.items():
        variants = []
        for reply in texts:
            words = reply.split(" ")
            variants.append([w + " " for w in words[:-1]] + [words[-1]])
        await client.post(
            fake.base_url.removesuffix("/v1") + "/_fake/replies",
            json={"key": key, "variants": variants},
        )
    # A phone's (full page, at twice its pixels) and a desktop's (1280×900, as it is seen
    # once the messages are written: three cards side by side).
    desktop = {"viewport": DESKTOP, "device_scale_factor": 1}
    phone = {"device_scale_factor": 2}
    shots = (
        ("en-US", "light", "page.png", "Minji", "heartfelt", "wife", "birthday", phone),
        ("en-US", "dark", "page-dark.png", "Minji", "heartfelt", "wife", "birthday", phone),
        ("ko-KR", "light", "page-ko.png", "민지", "진심을 담아", "아내", "생일", phone),
        ("en-US", "light", "page-desktop.png", "Minji", "heartfelt", "wife", "birthday", desktop),
        ("ko-KR", "light", "page-desktop-ko.png", "민지", "진심을 담아", "아내", "생일", desktop),
    )
    for locale, scheme, path, name, tone, relation, reason, size in shots:
        page = await browsing.open(locale=locale, color_scheme=scheme, **size)
        await page.goto(f"{server.url}/")
        await page.locator("#name").fill(name)
        await page.get_by_role("button", name=tone, exact=True).click()
        reply = "docs-ko" if locale == "ko-KR" else "docs-en"
        await fill_and_write(page, f"{reason} [[fake reply={reply}]]", relation=relation)
        await expect(page.locator("#copy-3")).to_be_visible()
        # The directive is how tests steer the fake; a reader of the docs needs no sight of it.
        await page.locator("#reason").fill(reason)
        await page.locator("#reason").blur()
        if size is desktop:
            await page.locator("#result").scroll_into_view_if_needed()
        await page.screenshot(path=str(DOCS / path), full_page=size is phone)
