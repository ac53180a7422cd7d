"""The page's three messages (issue 25), in Debian's Chromium at a phone's and a desktop's size,
against the whole app and the fake upstream over loopback: three cards fill as they are
written, side by side on a wide screen and stacked on a phone; one failing says so in its card
while the others complete; each card copies its own text; a refinement rewrites a card as a
draft; the draft box is sent as `draft`; and the no-JavaScript form does the same."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from typing import Any

import httpx
from playwright.async_api import Browser, Page, Request, expect

from messagebot.fake_upstream import FakeUpstream

from .browser import SIZES
from .helpers import Server, fake_log, openai_env, running, wait_until
from .test_page import OPENING, assert_friendly, fill_and_write

CARDS = ("#message", "#message-2", "#message-3")
COPIES = ("#copy", "#copy-2", "#copy-3")
ERRORS = ("#error", "#error-2", "#error-3")
FAILED = "The writing service had a problem. Please try again."


async def open_page(
    url: str,
    browser: Browser,
    contexts: list[Any],
    viewport: dict[str, int] = SIZES["desktop"],
    **options: Any,
) -> Page:
    context = await browser.new_context(viewport=viewport, locale="en-US", **options)
    contexts.append(context)
    page = await context.new_page()
    await page.goto(f"{url}/")
    return page


def tag() -> str:
    return f"cards-{uuid.uuid4().hex[:8]}"


async def written(page: Page) -> list[str]:
    """The three cards' texts, once the page is done writing."""
    await expect(page.locator("#stop")).to_be_hidden(timeout=15_000)
    return [await page.locator(card).inner_text() for card in CARDS]


async def variants(client: httpx.AsyncClient, fake: FakeUpstream, texts: list[str]) -> str:
    """A key under which the fake writes these texts, one a request, in turn."""
    key = f"variants-{uuid.uuid4().hex[:8]}"
    await client.post(
        fake.base_url.removesuffix("/v1") + "/_fake/replies",
        json={
            "key": key,
            "variants": [[w + " " for w in t.split(" ")[:-1]] + [t.split(" ")[-1]] for t in texts],
        },
    )
    return key


async def three(client: httpx.AsyncClient, fake: FakeUpstream, name: str) -> list[Any]:
    """The fake's records of the requests tagged `name`, once there are three."""
    log = await fake_log(client, fake.base_url, name)
    return log if len(log) == 3 else []


async def test_three_cards_fill_as_they_are_written(
    server: Server, browser: Browser, contexts: list[Any], viewport: dict[str, int]
) -> None:
    page = await open_page(server.url, browser, contexts, viewport)
    await page.evaluate(
        """() => {
            window.seen = [[], [], []];
            document.querySelectorAll(".choice .message").forEach((card, i) =>
                new MutationObserver(() => window.seen[i].push(card.textContent))
                    .observe(card, {subtree: true, childList: true, characterData: true}));
        }"""
    )
    await fill_and_write(page, "birthday [[fake chunks=10 delay=0.12]]")
    # The first card's top is in sight as the words come: nothing pushed it below the fold.
    await expect(page.locator("#message")).not_to_be_empty(timeout=10_000)
    top = await page.locator("#message").bounding_box()
    assert top is not None and 0 <= top["y"] < viewport["height"] - 40, top
    texts = await written(page)
    assert all(re.match(OPENING, text) for text in texts), texts
    assert len(set(texts)) == 3, "three different messages"
    seen: list[list[str]] = await page.evaluate("window.seen")
    for card, text in zip(seen, texts, strict=True):
        grown = list(dict.fromkeys(t for t in card if t))
        assert len(grown) >= 5, "each card is written as it arrives, not at once"
        for shorter, longer in itertools.pairwise(grown):
            assert longer.startswith(shorter)
        assert grown[-1] == text

    boxes = [await page.locator(f"#choice{s}").bounding_box() for s in ("", "-2", "-3")]
    assert all(boxes)
    ys = [b["y"] for b in boxes if b]
    xs = [b["x"] for b in boxes if b]
    if viewport["width"] >= 1024:  # side by side: one row, left to right
        assert max(ys) - min(ys) < 2, boxes
        assert xs[0] < xs[1] < xs[2], boxes
    else:  # stacked: one column, top to bottom
        assert max(xs) - min(xs) < 2, boxes
        assert ys[0] < ys[1] < ys[2], boxes
    for copy in COPIES:
        await expect(page.locator(copy)).to_be_visible()


async def test_one_card_failing_says_so_and_the_others_complete(
    server: Server, browser: Browser, contexts: list[Any], viewport: dict[str, int]
) -> None:
    page = await open_page(server.url, browser, contexts, viewport)
    # The second upstream request of the three fails after three pieces.
    await fill_and_write(
        page, f"birthday [[fake chunks=8 delay=0.1 error_after=3 faulty=1 tag={tag()}]]"
    )
    texts = await written(page)
    errors = [await page.locator(e).inner_text() for e in ERRORS]
    assert sorted(errors) == ["", "", FAILED], errors
    failed = errors.index(FAILED)
    for index, text in enumerate(texts):
        if index != failed:
            assert re.match(OPENING, text) and len(text.split()) == 8, texts
    await expect(page.locator("#form-error")).to_be_hidden()  # the form's alert is for all
    assert_friendly(await page.locator("body").inner_text())


async def test_copy_on_the_second_card_copies_the_second_message(
    server: Server, browser: Browser, contexts: list[Any]
) -> None:
    page = await open_page(
        server.url, browser, contexts, permissions=["clipboard-read", "clipboard-write"]
    )
    await fill_and_write(page, "birthday")
    texts = await written(page)
    await page.locator("#copy-2").click()
    await expect(page.locator("#copy-2")).to_have_text("✓ Copied")
    await expect(page.locator("#copy")).to_have_text("Copy")
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied == texts[1] and copied != texts[0]


async def test_a_refinement_rewrites_that_card_as_a_draft(
    server: Server,
    fake: FakeUpstream,
    browser: Browser,
    contexts: list[Any],
    client: httpx.AsyncClient,
) -> None:
    page = await open_page(server.url, browser, contexts)
    await page.locator("#name").fill("Minji")
    await fill_and_write(page, "birthday")
    texts = await written(page)

    rewrites = ["Happy birthday, Minji.", "Wishing you a calm day, Minji.", "Many happy returns."]
    key = await variants(client, fake, rewrites)
    name = tag()
    await page.locator("#reason").fill(f"birthday [[fake reply={key} tag={name}]]")
    sent: list[Request] = []
    page.on("request", lambda r: sent.append(r) if r.url.endswith("/v1/messages/stream") else None)
    await page.locator("#choice-2").get_by_role("button", name="More formal").click()
    after = await written(page)
    # One message, in place of that card's: the person chose it; the other two stay.
    assert after == [texts[0], rewrites[0], texts[2]]
    body = sent[0].post_data_json
    assert body["draft"] == texts[1] and body["manner"] == "more formal"
    assert body["relation"] == "wife" and body["name"] == "Minji" and body["n"] == 1
    assert body["reason"].startswith("birthday")
    # What reached the upstream: the card's text, to be rewritten.
    # (The fake records a request as its connection ends: a moment after the page's done.)
    log = await wait_until(
        lambda: fake_log(client, fake.base_url, name), what="the fake's record of the request"
    )
    assert len(log) == 1
    prompts = ["\n".join(str(m.get("content")) for m in record["messages"]) for record in log]
    # (in the prompt's request, as a JSON string: a quotation mark in it comes escaped)
    quoted = json.dumps(texts[1], ensure_ascii=False)
    assert all(quoted in prompt for prompt in prompts), prompts[0]


async def test_the_draft_box_is_sent_as_draft(
    server: Server,
    fake: FakeUpstream,
    browser: Browser,
    contexts: list[Any],
    client: httpx.AsyncClient,
) -> None:
    page = await open_page(server.url, browser, contexts)
    name = tag()
    draft = f"sorry i couldnt make it saturday, drinks on me next week? [[fake tag={name}]]"
    await page.locator("#draft").fill(draft)  # who and what for left empty: optional now
    async with page.expect_request("**/v1/messages/stream") as request:
        await page.locator("#write").click()
    body = (await request.value).post_data_json
    assert body["draft"] == draft and "relation" not in body and "reason" not in body
    texts = await written(page)
    assert all(texts) and len(set(texts)) == 3
    await wait_until(lambda: three(client, fake, name), what="three upstream requests")


async def test_without_javascript_three_messages_and_a_refinement(
    server: Server,
    fake: FakeUpstream,
    browser: Browser,
    contexts: list[Any],
    client: httpx.AsyncClient,
    viewport: dict[str, int],
) -> None:
    # The fake writes these in turn: three for the form, the fourth for the refinement.
    scripted = [
        "Happy birthday, my love.",
        "Wishing you the happiest of days.",
        "Another year of you: lucky me.",
        "Happy birthday.",
    ]
    key = await variants(client, fake, scripted)
    page = await open_page(server.url, browser, contexts, viewport, java_script_enabled=False)
    await page.locator("#relation").fill("wife")
    await page.locator("#reason").fill(f"birthday [[fake reply={key}]]")
    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await page.locator("#write").click()
    assert (await answer.value).status == 200
    texts = [await page.locator(card).inner_text() for card in CARDS]
    assert sorted(texts) == sorted(scripted[:3]), texts

    async with page.expect_response(lambda r: r.request.method == "POST") as answer:
        await page.locator("#choice-2").get_by_role("button", name="Shorter").click()
    response = await answer.value
    assert response.status == 200
    form = dict(re.findall(r"([^&=]+)=([^&]*)", response.request.post_data or ""))
    assert form["manner"] == "shorter" and form["relation"] == "wife"
    posted = (await response.request.all_headers(), response.request.post_data)
    assert "draft=" in (posted[1] or "")
    posted_form = httpx.QueryParams(response.request.post_data or "")
    assert posted_form["draft"] == texts[1] and posted_form["refined"] == "1"
    again = [await page.locator(card).inner_text() for card in CARDS]
    # One message, in place of that card's; the other two stay.
    assert again[0] == texts[0] and again[2] == texts[2], (texts, again)
    assert again[1] == scripted[3]
    await expect(page.locator("#draft")).to_have_value("")  # the card was the draft, not the box
    await expect(page.locator("#relation")).to_have_value("wife")


async def test_the_page_budget_lets_a_person_write_refine_twice_and_write_again(
    fake: FakeUpstream, browser: Browser, contexts: list[Any]
) -> None:
    """With API keys set the page has its own budget (MESSAGEBOT_PAGE_RATE_LIMIT, at its
    default here): write (three), refine twice (one each), write another (three)."""
    async with running(openai_env(fake, MESSAGEBOT_API_KEYS="k-test")) as locked:
        page = await open_page(locked.url, browser, contexts)
        await fill_and_write(page, "birthday")
        await written(page)
        for refinement in ("Shorter", "Warmer"):
            await page.locator("#choice").get_by_role("button", name=refinement).click()
            await written(page)
            await expect(page.locator("#form-error")).to_be_hidden()
        async with page.expect_response("**/v1/messages/stream") as answer:
            await page.locator("#regenerate").click()
        texts = await written(page)
        await expect(page.locator("#form-error")).to_be_hidden()
        assert all(texts)
        # 3 + 1 + 1 + 3 of the default 20: room to spare (a little refill aside).
        assert int((await answer.value).headers["ratelimit-remaining"]) >= 12


async def test_the_language_switch_redraws_the_refinements_and_keeps_the_cards(
    server: Server, browser: Browser, contexts: list[Any]
) -> None:
    page = await open_page(server.url, browser, contexts)
    await fill_and_write(page, "birthday")
    texts = await written(page)
    await page.get_by_role("button", name="한국어").click()
    await expect(page.locator("html")).to_have_attribute("lang", "ko")
    card = page.locator("#choice-2")
    for label in ("짧게", "더 따뜻하게", "존댓말로", "반말로"):
        await expect(card.get_by_role("button", name=label, exact=True)).to_be_visible()
    await expect(card.get_by_role("button", name="존댓말로")).to_have_attribute("value", "존댓말로")
    await expect(page.locator("#draft")).to_have_attribute("placeholder", re.compile("붙여"))
    assert [await page.locator(c).inner_text() for c in CARDS] == texts
