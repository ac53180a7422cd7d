"""Tools for the tests of clients on other origins (test_cors.py, test_clients.py, and
test_docs_offline.py): Chromium, pages served from other loopback origins, the recipes of
docs/clients.md.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page

from .helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
JS_DIR = Path(__file__).resolve().parent / "js"  # package.json: the recipes' npm packages
NODE_MODULES = JS_DIR / "node_modules"
RECIPES = ROOT / "docs" / "clients.md"
# What the recipes say where a test puts its server's address and key.
README_URL = "http://127.0.0.1:8000"
README_KEY = "YOUR_KEY"

# The page on the other origin: somewhere for a recipe to write, and the npm packages' modules
# by their names (what a bundler would do for a real front end).
CLIENT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>another origin</title>
<script type="importmap">{"imports": {
  "@microsoft/fetch-event-source": "/node_modules/@microsoft/fetch-event-source/lib/esm/index.js"
}}</script></head>
<body><p id="message"></p></body></html>
"""


def recipe(name: str) -> str:
    """The code of docs/clients.md's block marked `<!-- recipe: name -->`."""
    readme = RECIPES.read_text(encoding="utf-8")
    found = re.findall(
        rf"^<!-- recipe: {re.escape(name)} -->\n```[a-z]*\n(.*?)^```$", readme, re.M | re.S
    )
    assert len(found) == 1, f"docs/clients.md has {len(found)} blocks marked recipe: {name}"
    return str(found[0])


def fill(code: str, url: str, key: str, **replace: str) -> str:
    """The recipe with a test's server and key in place of the doc's, and any other text
    replaced (each must be there exactly once, so that a changed recipe fails loudly)."""
    assert README_URL in code and README_KEY in code, code
    for old, new in replace.items():
        assert code.count(old) == 1, (old, code)
        code = code.replace(old, new)
    return code.replace(README_URL, url).replace(README_KEY, key)


def with_reason(code: str, old: str, directive: str) -> str:
    """The recipe with a fake upstream directive added to its example's reason."""
    quoted = json.dumps(old, ensure_ascii=False)
    assert code.count(quoted) == 1, (quoted, code)
    return code.replace(quoted, json.dumps(f"{old} {directive}", ensure_ascii=False))


def require_npm_packages() -> None:
    if not (NODE_MODULES / "eventsource").is_dir():
        pytest.fail(
            "tests/js/node_modules is missing: run the README's test command "
            "(it runs `npm ci --prefix tests/js`)"
        )


@contextlib.asynccontextmanager
async def other_origins(count: int = 2) -> AsyncIterator[list[str]]:
    """`count` loopback origins (one port each), serving CLIENT_PAGE at / and the npm
    packages under /node_modules/ (an extensionless module path gets its .js, as bundlers do);
    GET /native-sse is a canned stream with an `event: error`, for the browser's EventSource."""

    async def page(_: web.Request) -> web.Response:
        return web.Response(text=CLIENT_PAGE, content_type="text/html")

    async def module(request: web.Request) -> web.StreamResponse:
        path = (NODE_MODULES / request.match_info["path"]).resolve()
        if not path.is_relative_to(NODE_MODULES.resolve()):
            raise web.HTTPNotFound()
        if not path.is_file() and path.with_name(path.name + ".js").is_file():
            path = path.with_name(path.name + ".js")
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Type": "text/javascript"})

    async def native_sse(_: web.Request) -> web.Response:
        body = 'event: error\ndata: {"code":"upstream_error","message":"The model failed."}\n\n'
        return web.Response(
            text=body, headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/native-sse", native_sse)
    app.router.add_get("/node_modules/{path:.+}", module)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    urls = []
    for _ in range(count):
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        urls.append(f"http://127.0.0.1:{port}")
    try:
        yield urls
    finally:
        await runner.cleanup()


# Counts the page's calls of fetch() to the API (each one a request, each POST a generation).
COUNT_FETCHES = """
window.__apiCalls = 0;
const realFetch = window.fetch;
window.fetch = (input, init) => {
  if (String(input.url ?? input).includes("/v1/")) window.__apiCalls += 1;
  return realFetch(input, init);
};
"""


async def open_page(browser: Browser, url: str) -> tuple[Page, list[str]]:
    """A fresh page at `url` that counts its API calls; the list gets its console errors."""
    context = await browser.new_context()
    await context.add_init_script(COUNT_FETCHES)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(url)
    return page, errors


async def run_module(page: Page, code: str, timeout_ms: float = 20_000) -> dict[str, Any]:
    """Run a recipe as the page's module script (top-level await, imports by package name)
    and return what its example ended with: `done` and the text shown, or the error."""
    lines = code.splitlines()
    imports = [line for line in lines if line.startswith("import ")]
    body = [line for line in lines if not line.startswith("import ")]
    script = "\n".join(
        [
            *imports,
            "try {",
            *body,
            "  window.__recipe = {ok: true, done,"
            " shown: document.querySelector('#message').textContent};",
            "} catch (error) {",
            "  window.__recipe = {ok: false, error: String(error), code: error.code ?? null,"
            " status: error.status ?? null, retryAfter: error.retryAfter ?? null};",
            "}",
        ]
    )
    await page.evaluate("() => { delete window.__recipe; }")
    await page.add_script_tag(type="module", content=script)
    await page.wait_for_function("() => window.__recipe !== undefined", timeout=timeout_ms)
    return await page.evaluate("() => window.__recipe")  # type: ignore[no-any-return]
