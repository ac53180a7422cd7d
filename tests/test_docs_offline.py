"""GET /docs works with no network: Swagger UI's files come from the app, under a policy that
names no other host. Chromium records every request the page makes; none may leave the app."""

from __future__ import annotations

import httpx
from playwright.async_api import ConsoleMessage, Route, expect

from messagebot.fake_upstream import FakeUpstream

from .browser import chromium
from .helpers import Server, openai_env, running


async def test_docs_render_in_chromium_with_no_request_outside_the_app(server: Server) -> None:
    async with chromium() as browser:
        context = await browser.new_context()
        requests: list[str] = []
        problems: list[str] = []

        async def offline(route: Route) -> None:
            # Anything not for the app fails at once, as it would on a machine with no network.
            if route.request.url.startswith(f"{server.url}/"):
                await route.continue_()
            else:
                await route.abort("internetdisconnected")

        await context.route("**/*", offline)
        page = await context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.on("pageerror", lambda error: problems.append(str(error)))

        def console(message: ConsoleMessage) -> None:
            if message.type == "error" or "Content Security Policy" in message.text:
                problems.append(message.text)

        page.on("console", console)
        await page.goto(f"{server.url}/docs")

        # Swagger UI read /openapi.json and drew the operations.
        for path in ("/v1/messages", "/v1/messages/stream", "/streaming/", "/healthz"):
            await expect(
                page.locator(".opblock-summary-path").get_by_text(path, exact=True)
            ).to_be_visible(timeout=20_000)
        # An operation opens, with its request body described.
        await (
            page.locator(".opblock-summary-path")
            .get_by_text("/v1/messages/stream", exact=True)
            .click()
        )
        await expect(page.get_by_role("button", name="Try it out")).to_be_visible()
        await expect(page.locator(".opblock-body").get_by_text("relation").first).to_be_visible()

        assert f"{server.url}/openapi.json" in requests
        assert f"{server.url}/docs/assets/swagger-ui-bundle.js" in requests
        outside = [url for url in requests if not url.startswith(f"{server.url}/")]
        assert outside == [], outside
        assert problems == [], problems
        await context.close()


async def test_docs_policy_names_no_other_host_and_only_the_bundle_is_served(
    server: Server, client: httpx.AsyncClient
) -> None:
    docs = await client.get(f"{server.url}/docs")
    assert docs.status_code == 200 and "/openapi.json" in docs.text
    policy = docs.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy
    for loose in ("http", "*", "unsafe-inline", "unsafe-eval"):
        assert loose not in policy, policy
    assert "cdn" not in docs.text

    script = await client.get(f"{server.url}/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "SwaggerUIBundle" in script.text
    css = await client.get(f"{server.url}/docs/assets/swagger-ui.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    # Nothing else of the package's folder, nor anything outside it.
    for name in ("index.j2", "index.html", "swagger-initializer.js", "..%2F__init__.py"):
        assert (await client.get(f"{server.url}/docs/assets/{name}")).status_code == 404, name
    # The docs stay out of the API description.
    spec = (await client.get(f"{server.url}/openapi.json")).json()
    assert not any(path.startswith("/docs") for path in spec["paths"])


async def test_try_it_out_sends_the_key_given_in_authorize(fake: FakeUpstream) -> None:
    """With API keys set, /docs offers "Authorize" for both ways of giving a key, and "Try it
    out" then sends it: the request is answered, not refused with 401."""
    env = openai_env(fake, MESSAGEBOT_API_KEYS="k-docs")
    async with running(env) as server, chromium() as browser:
        context = await browser.new_context()
        page = await context.new_page()
        await page.goto(f"{server.url}/docs")
        await page.locator("button.authorize").first.click()
        bearer = page.locator(".auth-container form").filter(has=page.locator("#auth-bearer-value"))
        await expect(page.locator("#api_key_value")).to_be_visible()  # X-API-Key, offered too
        await bearer.locator("#auth-bearer-value").fill("k-docs")
        await bearer.locator("button.modal-btn.authorize").click()
        await page.locator(".close-modal").click()

        operation = page.locator(".opblock-post").filter(
            has=page.locator(".opblock-summary-path").get_by_text("/v1/messages", exact=True)
        )
        await operation.locator(".opblock-summary").click()
        await operation.get_by_role("button", name="Try it out").click()
        body = '{"name": "Minji", "relation": "wife", "reason": "birthday"}'
        await operation.locator("textarea.body-param__text").fill(body)
        async with page.expect_response(f"{server.url}/v1/messages") as answered:
            await operation.get_by_role("button", name="Execute").click()
        answer = await answered.value
        assert answer.status == 200, await answer.text()
        assert answer.request.headers["authorization"] == "Bearer k-docs"
        await context.close()
