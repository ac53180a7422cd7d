"""Debian's Chromium, driven by Playwright: the one way the tests start a browser. The
session-wide `browser` fixture (conftest.py) uses it; a test that needs a browser of its own
opens one with `chromium()`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from playwright.async_api import Browser, async_playwright

CHROMIUM = "/usr/bin/chromium"
#: The sizes the page is tried at (conftest.py's `viewport` fixture): a phone's and a desktop's.
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
# No sandbox (root), no GPU, and nothing that reaches for the network on its own: this
# machine's network is closed, and Chromium's own background requests would be refused.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()
