"""A client that leaves at any moment of a request: every upstream request it opened is closed
(docs/api.md: "When the client goes away, every upstream request of the `n` is closed at once")
and each of its messages is counted once, as `cancelled`.

Over real loopback sockets: a raw client that sends its request and hangs up, the fake upstream
holding its pieces back (a long `delay`), the app in a real Hypercorn. The moment between the
route's return and the first read of the streaming body is made to last by an `after_request`
hook of the test's (Quart runs every one before it sends the answer): the client hangs up
there. Before the fix nothing closed the upstream requests then, because a body's async
generator that never started runs no `finally`."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from quart import Quart, Response, request

from messagebot.fake_upstream import FakeUpstream

from .helpers import Server, fake_log, openai_env, running, wait_until

BODY = {"relation": "wife", "reason": "birthday", "max_length": 1000}
_tags = itertools.count()
HOLD = "X-Test-Hold"


def body(directive: str, **fields: Any) -> dict[str, Any]:
    return {**BODY, "reason": f"birthday [[fake {directive}]]", **fields}


class Holder:
    """An `after_request` hook that, for a request with the `X-Test-Hold` header, says it was
    reached and then waits (until the client leaving cancels the request)."""

    def __init__(self) -> None:
        self.reached = asyncio.Event()

    def install(self, app: Quart) -> None:
        @app.after_request
        async def hold(response: Response) -> Response:
            if HOLD in request.headers:
                self.reached.set()
                await asyncio.sleep(30)  # the client's leaving cancels this
            return response


@pytest.fixture
async def held(fake: FakeUpstream) -> AsyncIterator[tuple[Server, Holder]]:
    """A service of its own (its /v1/stats start at zero) with the holding hook."""
    holder = Holder()
    async with running(openai_env(fake), holder.install) as served:
        yield served, holder


async def learn_that_n_is_ignored(server: Server, client: httpx.AsyncClient) -> None:
    """One request of 3 first, so that the service asks for each message on its own (three
    upstream requests per request from then on)."""
    response = await client.post(f"{server.url}/v1/messages", json=body("chunks=all", n=3))
    assert response.status_code == 200, response.text


async def send_raw(url: str, path: str, payload: dict[str, Any], headers: dict[str, str]) -> Any:
    """Open a connection and send a POST on it; return the writer (to hang up with)."""
    host, port = url.removeprefix("http://").split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    data = json.dumps(payload).encode()
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n{head}\r\n".encode()
        + data
    )
    await writer.drain()
    return writer


async def hang_up(writer: Any) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def wait_all_closed_and_counted(
    server: Server,
    fake: FakeUpstream,
    client: httpx.AsyncClient,
    tag: str,
    n: int,
    before: int,
    requests: int | None = None,
) -> None:
    """Each of the `requests` upstream requests (one per message unless said) closed, and
    the `n` messages counted as cancelled (after `before` counted as written)."""
    requests = n if requests is None else requests

    async def closed() -> list[str] | None:
        outcomes = [r["outcome"] for r in await fake_log(client, fake.base_url, tag)]
        return outcomes if outcomes == ["client_closed"] * requests else None

    await wait_until(closed, within=12, what=f"{requests} upstream request(s) closed")

    async def counted() -> dict[str, int] | None:
        stats = (await client.get(f"{server.url}/v1/stats")).json()
        outcomes: dict[str, int] = stats["by_outcome"]
        return outcomes if outcomes.get("cancelled", 0) == n else None

    outcomes = await wait_until(counted, within=12, what=f"{n} message(s) counted as cancelled")
    assert outcomes.get("stop", 0) == before, outcomes  # and nothing else counted
    assert set(outcomes) <= {"stop", "cancelled"}, outcomes
    # Nothing left in flight (the producers have ended).
    await wait_until(
        lambda: not server.app.extensions["messagebot"].active, within=12, what="none in flight"
    )


@pytest.mark.parametrize("accept", ["text/event-stream", "text/plain"])
@pytest.mark.parametrize("n", [1, 3])
async def test_leaving_before_the_stream_body_starts_closes_and_counts_every_message(
    held: tuple[Server, Holder], fake: FakeUpstream, client: httpx.AsyncClient, n: int, accept: str
) -> None:
    server, holder = held
    if accept == "text/plain" and n != 1:
        pytest.skip("raw text is n = 1 only")
    before = 0
    if n > 1:
        await learn_that_n_is_ignored(server, client)
        before = 3
    tag = f"leave-early-{next(_tags)}"
    writer = await send_raw(
        server.url,
        "/v1/messages/stream",
        body(f"chunks=300 delay=0.05 tag={tag}", n=n),
        {HOLD: "1", "Accept": accept},
    )
    # The route has returned its streaming Response (every upstream request accepted); its
    # body has not been read yet.
    await asyncio.wait_for(holder.reached.wait(), 10)
    assert len(await fake_log(client, fake.base_url, tag)) == n
    await hang_up(writer)
    await wait_all_closed_and_counted(server, fake, client, tag, n, before)


async def test_leaving_before_the_stream_body_starts_closes_the_one_reply_of_n(
    held: tuple[Server, Holder], fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    """An upstream that honours `n` writes the 3 messages in one reply: it is closed, and
    each message counted."""
    server, holder = held
    tag = f"leave-early-honour-{next(_tags)}"
    writer = await send_raw(
        server.url,
        "/v1/messages/stream",
        body(f"chunks=300 delay=0.05 n=honour tag={tag}", n=3),
        {HOLD: "1"},
    )
    await asyncio.wait_for(holder.reached.wait(), 10)
    await hang_up(writer)
    await wait_all_closed_and_counted(server, fake, client, tag, 3, 0, requests=1)


@pytest.mark.parametrize("n", [1, 3])
async def test_leaving_the_json_endpoint_while_it_waits_closes_and_counts_every_message(
    fake: FakeUpstream, client: httpx.AsyncClient, n: int
) -> None:
    async with running(openai_env(fake)) as server:
        before = 0
        if n > 1:
            await learn_that_n_is_ignored(server, client)
            before = 3
        tag = f"leave-json-{next(_tags)}"
        writer = await send_raw(
            server.url, "/v1/messages", body(f"chunks=300 delay=0.05 tag={tag}", n=n), {}
        )
        # Every message accepted upstream and being written (the client waits for them all).
        service = server.app.extensions["messagebot"]
        await wait_until(lambda: len(service.active) == n, within=10, what="n in flight")
        await hang_up(writer)
        await wait_all_closed_and_counted(server, fake, client, tag, n, before)


async def test_leaving_right_after_sending_the_request_leaves_no_upstream_request_open(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    """A client that sends its request and hangs up at once: its disconnect arrives in the
    step its body completes, and Quart's read of the body (Python 3.11's asyncio.wait_for)
    dropped that cancellation, so the message was written whole for nobody and counted as
    `stop` (40 of 40 tries before the fix)."""

    def ended() -> float:
        labels = {"method": "POST", "route": "/v1/messages/stream", "status": "none"}
        return REGISTRY.get_sample_value("messagebot_requests_total", labels) or 0.0

    async with running(openai_env(fake)) as server:
        for _ in range(5):
            tag = f"leave-at-once-{next(_tags)}"
            before = ended()
            writer = await send_raw(
                server.url, "/v1/messages/stream", body(f"chunks=300 delay=0.05 tag={tag}"), {}
            )
            await hang_up(writer)
            # The request has ended, unanswered (counted by the request log as it ends).
            await wait_until(lambda n=before: ended() > n, within=12, what="the request to end")

            async def closed(tag: str = tag) -> dict[str, list[str]] | None:
                outcomes = [r["outcome"] for r in await fake_log(client, fake.base_url, tag)]
                return {"upstream": outcomes} if set(outcomes) <= {"client_closed"} else None

            # Either never asked upstream, or asked and closed.
            await wait_until(closed, within=12, what="no upstream request left open")
        stats = (await client.get(f"{server.url}/v1/stats")).json()
        assert set(stats["by_outcome"]) <= {"cancelled"}, stats


@pytest.mark.parametrize("n", [1, 3])
async def test_leaving_while_the_upstream_has_not_answered_closes_it_and_counts_nothing(
    fake: FakeUpstream, client: httpx.AsyncClient, n: int
) -> None:
    """The client leaves while the upstream has not sent its headers (nothing accepted yet):
    each upstream request is dropped, and no message counted (docs/api.md)."""
    async with running(openai_env(fake)) as server:
        before = 0
        if n > 1:
            await learn_that_n_is_ignored(server, client)
            before = 3
        tag = f"leave-unanswered-{next(_tags)}"
        writer = await send_raw(
            server.url,
            "/v1/messages/stream",
            body(f"headers_delay=1 chunks=300 delay=0.05 tag={tag}", n=n),
            {},
        )

        async def asked() -> bool:
            return len(await fake_log(client, fake.base_url, tag)) == n

        await wait_until(asked, within=12, what=f"{n} upstream request(s) made")
        await hang_up(writer)

        seen: list[object] = []

        async def closed() -> bool:
            outcomes = [r["outcome"] for r in await fake_log(client, fake.base_url, tag)]
            seen[:] = outcomes
            return outcomes == ["client_closed"] * n

        try:
            await wait_until(closed, within=12, what=f"{n} upstream request(s) closed")
        except AssertionError as failure:
            raise AssertionError(f"{failure}; the fake saw {seen}") from None
        assert not server.app.extensions["messagebot"].active
        stats = (await client.get(f"{server.url}/v1/stats")).json()
        assert stats["by_outcome"] == ({"stop": before} if before else {}), stats
