"""Every client recipe of docs/clients.md, taken out of that file and run against a real server:
the JavaScript in Chromium (from another origin, so through CORS) or Node.js, the Python with
this venv's python, curl with curl. And the traps the guide warns about, shown to be real.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page

from messagebot.fake_upstream import FakeUpstream

from .client_support import (
    JS_DIR,
    fill,
    open_page,
    other_origins,
    recipe,
    require_npm_packages,
    run_module,
    with_reason,
)
from .helpers import Server, openai_env, parse_sse, running, wait_until

KEY = "k-recipes"
# The recipes' examples, as the test's reference requests send them.
EXAMPLE = {"relation": "wife", "reason": "birthday", "name": "Minji", "max_length": 120}
# Slow enough that heartbeats (every 50 ms here) fall between the pieces.
SLOW = "[[fake chunks=6 delay=0.15]]"
FAIL_AFTER_START = "[[fake chunks=6 error_after=2]]"


@pytest.fixture(scope="module")
async def origin() -> AsyncIterator[str]:
    async with other_origins(1) as urls:
        yield urls[0]


@pytest.fixture(scope="module")
async def api(fake: FakeUpstream, origin: str) -> AsyncIterator[Server]:
    env = openai_env(
        fake,
        MESSAGEBOT_API_KEYS=KEY,
        MESSAGEBOT_CORS_ORIGINS=origin,
        MESSAGEBOT_HEARTBEAT_S="0.05",
    )
    async with running(env) as served:
        yield served


async def expected(api: Server, body: dict[str, Any]) -> dict[str, Any]:
    """The `done` event the service gives for `body` (the fake upstream is deterministic),
    but for its id (see `without_id`)."""
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream(
            "POST",
            f"{api.url}/v1/messages/stream",
            json=body,
            headers={"Authorization": f"Bearer {KEY}"},
        ) as response,
    ):
        events = [event async for event in parse_sse(response.aiter_lines())]
    assert events[-1].event == "done", events
    return without_id(events[-1].data)


def without_id(done: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in done.items() if key != "id"}


async def pings_in(api: Server, body: dict[str, Any]) -> int:
    """How many `: ping` comments a stream of `body` carries (the recipes must skip them)."""
    async with (
        httpx.AsyncClient(timeout=30) as client,
        client.stream(
            "POST", f"{api.url}/v1/messages/stream", json=body, headers={"X-API-Key": KEY}
        ) as response,
    ):
        return sum([event.comment == "ping" async for event in parse_sse(response.aiter_lines())])


def test_every_recipe_is_marked_once() -> None:
    for name in (
        "browser-fetch",
        "fetch-event-source",
        "eventsource",
        "python",
        "curl",
        "curl-json",
    ):
        assert recipe(name)


# --- Browser JavaScript: fetch and a reader ------------------------------------------------


async def test_browser_recipe_streams_from_another_origin(
    api: Server, origin: str, browser: Browser
) -> None:
    slow = {**EXAMPLE, "reason": f"birthday {SLOW}"}
    assert await pings_in(api, slow) > 0
    page, errors = await open_page(browser, origin)
    code = with_reason(fill(recipe("browser-fetch"), api.url, KEY), "birthday", SLOW)
    result = await run_module(page, code)
    assert result["ok"], result
    done = await expected(api, slow)
    assert without_id(result["done"]) == done
    assert result["shown"] == done["message"]
    assert await page.evaluate("window.__apiCalls") == 1
    assert errors == []


async def test_browser_recipe_reports_errors_before_and_after_start(
    api: Server, origin: str, browser: Browser
) -> None:
    page, _ = await open_page(browser, origin)
    busy = with_reason(
        fill(recipe("browser-fetch"), api.url, KEY), "birthday", "[[fake status=429 retry_after=9]]"
    )
    result = await run_module(page, busy)
    assert not result["ok"]
    assert (result["status"], result["code"], result["retryAfter"]) == (503, "busy", "9")

    page, _ = await open_page(browser, origin)
    failed = with_reason(fill(recipe("browser-fetch"), api.url, KEY), "birthday", FAIL_AFTER_START)
    result = await run_module(page, failed)
    assert not result["ok"] and result["code"] == "upstream_error", result


# --- @microsoft/fetch-event-source -----------------------------------------------------------


async def test_fetch_event_source_safe_recipe_streams_once_and_fails_once(
    api: Server, origin: str, browser: Browser
) -> None:
    require_npm_packages()
    slow = {**EXAMPLE, "reason": f"birthday {SLOW}"}
    page, errors = await open_page(browser, origin)
    code = with_reason(fill(recipe("fetch-event-source"), api.url, KEY), "birthday", SLOW)
    result = await run_module(page, code)
    assert result["ok"], result
    done = await expected(api, slow)
    assert without_id(result["done"]) == done and result["shown"] == done["message"]
    assert await page.evaluate("window.__apiCalls") == 1
    assert errors == []

    # A 4xx, and a failure after start, end the call: no second request, no new generation.
    for key, reason, status, code_name in [
        ("wrong", "birthday", 401, "unauthorized"),
        (KEY, f"birthday {FAIL_AFTER_START}", None, "upstream_error"),
    ]:
        page, _ = await open_page(browser, origin)
        code = fill(
            recipe("fetch-event-source"), api.url, key, **{'"birthday"': json.dumps(reason)}
        )
        result = await run_module(page, code)
        assert not result["ok"] and result["code"] == code_name, result
        assert result["status"] == status
        # The promise has settled with onerror's throw: no retry is scheduled after that.
        assert await page.evaluate("window.__apiCalls") == 1


# fetch-event-source used as its own README shows it.
NAIVE_FETCH_EVENT_SOURCE = """
import { fetchEventSource, EventStreamContentType } from "@microsoft/fetch-event-source";
window.__messages = [];
window.__stop = new AbortController();
fetchEventSource(%(url)s, {
  method: "POST",
  headers: {"Content-Type": "application/json", "Authorization": %(auth)s},
  body: JSON.stringify(%(body)s),
  signal: window.__stop.signal,
  %(options)s
  onmessage(msg) { window.__messages.push({event: msg.event, data: msg.data}); },
});
"""
README_ONOPEN = """async onopen(response) {
    if (response.ok && response.headers.get("content-type") === EventStreamContentType) return;
    throw new Error("not a stream");
  },"""


async def naive(
    page: Page, api: Server, body: dict[str, Any], *, key: str = KEY, options: str = ""
) -> None:
    script = NAIVE_FETCH_EVENT_SOURCE % {
        "url": json.dumps(f"{api.url}/v1/messages/stream"),
        "auth": json.dumps(f"Bearer {key}"),
        "body": json.dumps(body),
        "options": options,
    }
    await page.add_script_tag(type="module", content=script)


async def api_calls(page: Page) -> int:
    return await page.evaluate("window.__apiCalls")  # type: ignore[no-any-return]


async def test_fetch_event_source_traps_are_real(
    api: Server, origin: str, browser: Browser
) -> None:
    require_npm_packages()
    # Its README's strict content-type check refuses our good stream, and it tries again:
    # each try a new POST, a new generation.
    page, _ = await open_page(browser, origin)
    await naive(page, api, EXAMPLE, options=README_ONOPEN)
    await wait_until(lambda: more_than(page, 2), within=15, what="a third POST")
    await page.evaluate("window.__stop.abort()")

    # A 4xx is retried too, forever, unless onerror throws.
    page, _ = await open_page(browser, origin)
    await naive(page, api, EXAMPLE, key="wrong")
    await wait_until(lambda: more_than(page, 2), within=15, what="a third POST")
    await page.evaluate("window.__stop.abort()")

    # `: ping` comments reach onmessage as messages with no event and no data.
    page, _ = await open_page(browser, origin)
    await naive(page, api, {**EXAMPLE, "reason": f"birthday {SLOW}"})

    async def ended() -> list[dict[str, str]] | None:
        messages: list[dict[str, str]] = await page.evaluate("window.__messages ?? []")
        return messages if any(m["event"] == "done" for m in messages) else None

    messages = await wait_until(ended, within=15, what="the stream to end")
    assert {"event": "", "data": ""} in messages
    await page.evaluate("window.__stop.abort()")

    # Its README's `onclose() { throw … }`, "to retry", starts another message after each one.
    page, _ = await open_page(browser, origin)
    await naive(page, api, EXAMPLE, options='onclose() { throw new Error("closed"); },')
    await wait_until(lambda: more_than(page, 1), within=15, what="a second POST")
    await page.evaluate("window.__stop.abort()")

    # Without openWhenHidden, hiding the tab and showing it again sends the request again.
    page, _ = await open_page(browser, origin)
    await naive(page, api, {**EXAMPLE, "reason": f"birthday {SLOW}"})
    await wait_until(lambda: api_calls(page), what="the first POST")
    await page.evaluate(
        """() => {
            for (const hidden of [true, false]) {
              Object.defineProperty(document, "hidden", {value: hidden, configurable: true});
              document.dispatchEvent(new Event("visibilitychange"));
            }
        }"""
    )
    await wait_until(lambda: more_than(page, 1), within=15, what="a second POST")
    await page.evaluate("window.__stop.abort()")


async def more_than(page: Page, count: int) -> bool:
    return await api_calls(page) > count


# --- event: error, the eventsource package, and the browser's EventSource -----------------


async def run_node(code: str, within: float = 30) -> tuple[int, str, str, int]:
    """Run an ES module with Node.js in tests/js (where its npm packages are); returns the exit
    code, stdout, stderr and how many times it called fetch()."""
    counted = (
        "const __realFetch = globalThis.fetch; let __fetches = 0;\n"
        "globalThis.fetch = (...args) => { __fetches += 1; return __realFetch(...args); };\n"
        "process.on('exit', () => process.stderr.write(`\\nfetches=${__fetches}\\n`));\n"
    )
    lines = code.splitlines()
    imports = "\n".join(line for line in lines if line.startswith("import "))
    body = "\n".join(line for line in lines if not line.startswith("import "))
    script = (
        f"{imports}\n{counted}try {{\n{body}\n}} catch (error) {{\n"
        "  process.stderr.write(JSON.stringify({error: error.message, code: error.code ?? null,"
        " status: error.status ?? null}));\n  process.exitCode = 1;\n}\n"
    )
    process = await asyncio.create_subprocess_exec(
        "node",
        "--input-type=module",
        "-e",
        script,
        cwd=JS_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), within)
    stderr = err.decode()
    fetches = int(stderr.rsplit("fetches=", 1)[1].strip())
    # The script ends (0) or reports a failure itself (1); anything else is a crash.
    assert process.returncode in (0, 1), (process.returncode, stderr)
    return process.returncode, out.decode(), stderr.rsplit("\nfetches=", 1)[0], fetches


async def test_eventsource_recipe_streams_and_tells_the_two_errors_apart(api: Server) -> None:
    require_npm_packages()
    slow = {**EXAMPLE, "reason": f"birthday {SLOW}"}
    status, out, err, fetches = await run_node(
        with_reason(fill(recipe("eventsource"), api.url, KEY), "birthday", SLOW)
    )
    assert status == 0, err
    assert out == (await expected(api, slow))["message"]
    assert fetches == 1

    # Ours: `event: error` after start, with its data.
    status, out, err, fetches = await run_node(
        with_reason(fill(recipe("eventsource"), api.url, KEY), "birthday", FAIL_AFTER_START)
    )
    assert status == 1 and json.loads(err)["code"] == "upstream_error", err
    assert fetches == 1  # closed: no reconnection, no second generation

    # EventSource's own: the connection failed (401), no data.
    status, out, err, fetches = await run_node(fill(recipe("eventsource"), api.url, "wrong"))
    assert status == 1 and json.loads(err)["status"] == 401, err
    assert fetches == 1


EVENTSOURCE_PROBE = """
import { EventSource } from "eventsource";
const seen = [];
const source = new EventSource(%(url)s, {
  fetch: (url, init) => fetch(url, {...init, method: "POST", body: JSON.stringify(%(body)s),
    headers: {...init.headers, "Content-Type": "application/json", "X-API-Key": %(key)s}}),
});
source.onerror = (event) => seen.push(["onerror", event.data ?? null, event.code ?? null]);
source.addEventListener("error", (event) =>
  seen.push(["listener", event.data ?? null, event.code ?? null]));
%(more)s
await new Promise((resolve) => {
  const check = setInterval(() => { if (%(until)s) { clearInterval(check); resolve(); } }, 10);
});
source.close();
console.log(JSON.stringify(seen));
"""


async def probe_eventsource(api: Server, body: dict[str, Any], key: str, until: str) -> Any:
    script = EVENTSOURCE_PROBE % {
        "url": json.dumps(f"{api.url}/v1/messages/stream"),
        "body": json.dumps(body),
        "key": json.dumps(key),
        "more": "let starts = 0; source.addEventListener('start', () => { starts += 1; });",
        "until": until,
    }
    status, out, err, fetches = await run_node(script)
    assert status == 0, err
    return json.loads(out), fetches


async def test_eventsource_package_error_events_and_reconnection(api: Server) -> None:
    require_npm_packages()
    # Ours reaches addEventListener("error") with data, and not the package's onerror.
    seen, _ = await probe_eventsource(
        api, {**EXAMPLE, "reason": f"birthday {FAIL_AFTER_START}"}, KEY, "seen.length >= 1"
    )
    name, data, _code = seen[0]
    assert name == "listener" and json.loads(data)["code"] == "upstream_error"
    assert not any(entry[0] == "onerror" and entry[1] is not None for entry in seen)
    # Its own failure reaches both, without data, with the status.
    seen, _ = await probe_eventsource(api, EXAMPLE, "wrong", "seen.length >= 2")
    assert sorted(seen) == [["listener", None, 401], ["onerror", None, 401]]
    # Left open after `done`, it reconnects: a second POST, a second generation.
    seen, fetches = await probe_eventsource(api, EXAMPLE, KEY, "starts >= 2")
    assert fetches >= 2


async def test_browser_eventsource_onerror_gets_our_error_event_too(
    origin: str, browser: Browser
) -> None:
    page, _ = await open_page(browser, origin)
    first = await page.evaluate(
        """() => new Promise((resolve) => {
            const source = new EventSource("/native-sse");
            source.onerror = (event) => {
              source.close();
              resolve({type: event.constructor.name, data: event.data ?? null});
            };
        })"""
    )
    assert first["type"] == "MessageEvent"
    assert json.loads(first["data"])["code"] == "upstream_error"


# --- Python and curl -----------------------------------------------------------------------


async def run_process(*argv: str, within: float = 60) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), within)
    # The recipe ends (0) or reports a failure itself (1); anything else is a crash.
    assert process.returncode in (0, 1), (process.returncode, err.decode())
    return process.returncode, out.decode(), err.decode()


async def test_python_recipe(api: Server) -> None:
    status, out, err = await run_process(sys.executable, "-c", fill(recipe("python"), api.url, KEY))
    assert status == 0, err
    assert out == (await expected(api, EXAMPLE))["message"] + "\n"

    status, out, err = await run_process(
        sys.executable,
        "-c",
        with_reason(fill(recipe("python"), api.url, KEY), "birthday", FAIL_AFTER_START),
    )
    assert status == 1 and "upstream_error" in err

    status, out, err = await run_process(
        sys.executable, "-c", fill(recipe("python"), api.url, "wrong")
    )
    assert status == 1 and err.startswith("unauthorized: ")


async def test_curl_recipes(api: Server) -> None:
    status, out, err = await run_process("bash", "-c", fill(recipe("curl"), api.url, KEY))
    assert status == 0, err

    async def lines() -> AsyncIterator[str]:
        for line in out.split("\n"):
            yield line

    events = [event async for event in parse_sse(lines())]
    assert events[0].event == "start" and events[-1].event == "done"
    assert without_id(events[-1].data) == await expected(api, EXAMPLE)

    status, out, err = await run_process("bash", "-c", fill(recipe("curl-json"), api.url, KEY))
    assert status == 0, err
    head, body = out.split("\r\n\r\n", 1)
    assert head.startswith("HTTP/1.1 200")
    assert json.loads(body)["message"]

    busy = with_reason(
        fill(recipe("curl-json"), api.url, KEY), "추석", "[[fake status=429 retry_after=7]]"
    )
    status, out, err = await run_process("bash", "-c", busy)
    head, body = out.split("\r\n\r\n", 1)
    assert head.startswith("HTTP/1.1 503") and "\r\nretry-after: 7\r\n" in head.lower()
    assert json.loads(body)["error"]["code"] == "busy"
