"""The fallback chain's circuit breaker (providers/fallback.py) over real sockets: a trial
belongs to its own request, a hang cut by the request's deadline is a failure, and an upstream
that ends without text is one too. Counted by connections and breaker state, never by time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from messagebot.fake_upstream import FakeUpstream

from .helpers import assert_error, free_port, running, wait_until
from .raw_upstream import SSE_HEAD, RawUpstream, sse_reply
from .test_fallback import FALLBACK, PRIMARY, asked, body, chain_env, primary, status_reply

__all__ = ["primary"]  # the fixture, from tests/test_fallback.py


class Drip:
    """A stream's headers, then a comment every few milliseconds and never a token: a hang
    whose writes show when the client hung up (its record turns `client_closed`)."""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._parts()

    async def _parts(self) -> AsyncIterator[bytes]:
        yield SSE_HEAD
        while True:
            await asyncio.sleep(0.01)
            yield b": still here\n\n"


async def test_a_request_let_through_while_closed_leaves_anothers_trial_alone(
    primary: RawUpstream, fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    """A asks the primary while it is closed and hangs; B's 500 opens the breaker; after the
    cool-down C is the half-open trial and hangs; A's client leaves. D must still skip the
    primary: only C may end C's trial."""
    for key in ("early", "trial", "second"):
        primary.replies[key] = Drip()
    primary.replies["fail"] = status_reply(500, "Internal Server Error")
    cooldown = 0.3
    env = chain_env(
        primary.base_url,
        fake,
        MESSAGEBOT_ATTEMPT_TIMEOUT_S="20",
        MESSAGEBOT_FIRST_TOKEN_TIMEOUT_S="30",
        MESSAGEBOT_BREAKER_FAILURES="1",
        MESSAGEBOT_BREAKER_COOLDOWN_S=str(cooldown),
    )
    async with running(env) as server:
        url = f"{server.url}/v1/messages"
        a = asyncio.create_task(client.post(url, json=body("early", "a")))
        await wait_until(lambda: "early" in primary.records, what="A at the primary")
        b = await client.post(url, json=body("fail", "b"))
        assert b.json()["model"] == FALLBACK  # and the breaker is open
        assert primary.connections == 2
        # The cool-down is a timer of known length: wait it out (the primary is now half-open).
        await asyncio.sleep(cooldown + 0.1)
        c = asyncio.create_task(client.post(url, json=body("trial", "c")))
        await wait_until(lambda: "trial" in primary.records, what="C, the trial, at the primary")
        a.cancel()  # A's client leaves
        await wait_until(
            lambda: primary.records["early"].outcome == "client_closed", what="A's upstream closed"
        )
        d = await client.post(url, json=body("second", "d"))
        assert d.status_code == 200, d.text
        assert d.json()["model"] == FALLBACK
        assert "second" not in primary.records  # no second trial while C's is in flight
        assert primary.connections == 3
        c.cancel()
    assert len(await asked(client, fake, "d")) == 1


async def test_an_upstream_that_ends_without_text_is_a_failure_and_the_next_is_asked(
    primary: RawUpstream, fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    """A 200 stream with no content before [DONE] has not written a first piece: the fallback
    writes the message, and the primary's breaker counts the failure."""
    primary.replies["empty"] = sse_reply([])
    async with running(chain_env(primary.base_url, fake)) as server:
        response = await client.post(f"{server.url}/v1/messages", json=body("empty", "empty"))
        health = (await client.get(f"{server.url}/healthz")).json()
    assert response.status_code == 200, response.text
    assert response.json()["model"] == FALLBACK
    assert primary.records["empty"].outcome == "completed"  # it did answer, with nothing
    assert len(await asked(client, fake, "empty")) == 1
    assert health["upstreams"] == [
        {"model": PRIMARY, "state": "failing"},
        {"model": FALLBACK, "state": "ok"},
    ]


async def test_a_last_upstream_that_hangs_until_the_deadline_opens_its_breaker(
    primary: RawUpstream, fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    """The primary is dead; the fallback (a raw upstream) sends its headers and then nothing.
    The request ends at the first-token deadline with a 504, and that hang is the fallback's
    failure: /healthz says so, and (one failure opens it) the next request does not ask it."""
    primary.replies["hang"] = Drip()
    env = {
        **chain_env(f"http://127.0.0.1:{free_port()}/v1", fake),
        "MESSAGEBOT_FALLBACK_1_BASE_URL": primary.base_url,
        "MESSAGEBOT_FIRST_TOKEN_TIMEOUT_S": "1",
        "MESSAGEBOT_BREAKER_FAILURES": "1",
        "MESSAGEBOT_BREAKER_COOLDOWN_S": "3600",
    }
    async with running(env) as server:
        url = f"{server.url}/v1/messages"
        first = await client.post(url, json=body("hang", "hang1"))
        assert_error(first, 504, "upstream_timeout")
        health = (await client.get(f"{server.url}/healthz")).json()
        assert health["upstreams"] == [
            {"model": PRIMARY, "state": "failing"},
            {"model": FALLBACK, "state": "failing"},
        ]
        second = await client.post(url, json=body("hang", "hang2"))
        assert_error(second, 502, "upstream_error")  # every upstream's breaker is open
    assert primary.connections == 1  # the hung fallback was asked once, not again
