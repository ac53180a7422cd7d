"""Fallback upstreams (issue 27; docs/api.md, "Upstreams that fail"), over real sockets.

The primary is a raw upstream (tests/raw_upstream.py) that misbehaves exactly as a test says,
or a port where nothing listens; the fallback is the project's fake upstream, whose log says
whether (and with which model and key) it was asked."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from messagebot.fake_upstream import FakeUpstream

from .helpers import (
    assert_error,
    fake_log,
    free_port,
    hypercorn,
    running,
    stream,
    wait_until,
)
from .raw_upstream import SSE_HEAD, RawUpstream, event, raw_upstream, sse_reply

PRIMARY = "primary-model"
FALLBACK = "fallback-model"


def chain_env(primary_url: str, fake: FakeUpstream, **extra: str) -> dict[str, str]:
    """A MessageBot whose primary is `primary_url` and whose one fallback is `fake`."""
    return {
        "OPENAI_BASE_URL": primary_url,
        "OPENAI_API_KEY": "sk-primary",
        "MESSAGEBOT_MODEL": PRIMARY,
        "MESSAGEBOT_FALLBACK_1_BASE_URL": fake.base_url,
        "MESSAGEBOT_FALLBACK_1_API_KEY": "sk-fallback",
        "MESSAGEBOT_FALLBACK_1_MODEL": FALLBACK,
        "MESSAGEBOT_ATTEMPT_TIMEOUT_S": "0.5",
        "MESSAGEBOT_UPSTREAM_RETRIES": "0",  # one connection per attempt, to count them
        **extra,
    }


def body(key: str, tag: str, **extra: Any) -> dict[str, Any]:
    assert re.fullmatch(r"\w+", key), "tests/raw_upstream.py finds [[raw KEY]] with \\w+"
    return {
        "name": "Minji",
        "relation": "wife",
        "reason": f"birthday [[raw {key}]] [[fake tag={tag}]]",
        **extra,
    }


def status_reply(status: int, reason: str, extra: bytes = b"") -> list[bytes]:
    payload = b'{"error":{"message":"no"}}'
    return [
        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n%scontent-length: %d\r\n"
        b"connection: close\r\n\r\n%s" % (status, reason.encode(), extra, len(payload), payload)
    ]


class Hang:
    """A reply that sends `head` (nothing, or a stream's headers) and then nothing more,
    keeping the connection open; a fresh one for every request."""

    def __init__(self, head: bytes = b"") -> None:
        self.head = head

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._parts()

    async def _parts(self) -> AsyncIterator[bytes]:
        if self.head:
            yield self.head
        await asyncio.Event().wait()  # until the upstream stops (or we hang up)
        yield b""  # pragma: no cover


@pytest.fixture
async def primary() -> AsyncIterator[RawUpstream]:
    async with raw_upstream() as upstream:
        yield upstream


async def asked(client: httpx.AsyncClient, fake: FakeUpstream, tag: str) -> list[dict[str, Any]]:
    return await fake_log(client, fake.base_url, tag)


FAILURES: dict[str, Any] = {
    "500": status_reply(500, "Internal Server Error"),
    "503": status_reply(503, "Service Unavailable"),
    "429": status_reply(429, "Too Many Requests", b"retry-after: 7\r\n"),
    "401": status_reply(401, "Unauthorized"),
    "403": status_reply(403, "Forbidden"),
    "silent before its headers": Hang(),
    "silent after its headers": Hang(SSE_HEAD),
    "cut before its first token": [SSE_HEAD, b": keep-alive\n\n"],
}


@pytest.mark.parametrize("failure", [*FAILURES, "refused"])
@pytest.mark.parametrize("route", ["stream", "json"])
async def test_a_primary_that_fails_before_its_first_token_falls_back(
    primary: RawUpstream, fake: FakeUpstream, client: httpx.AsyncClient, failure: str, route: str
) -> None:
    key = tag = f"fb_{route}_{failure.replace(' ', '_')}"
    url = f"http://127.0.0.1:{free_port()}/v1" if failure == "refused" else primary.base_url
    if failure != "refused":
        primary.replies[key] = FAILURES[failure]
    async with running(chain_env(url, fake)) as server:
        if route == "stream":
            result = await stream(client, f"{server.url}/v1/messages/stream", body(key, tag))
            assert result.status == 200, result.body
            start, done = result.named("start")[0].data, result.named("done")[0].data
            assert (start["provider"], start["model"]) == ("openai", FALLBACK)
            assert (done["provider"], done["model"]) == ("openai", FALLBACK)
            assert done["message"] == result.text
        else:
            response = await client.post(f"{server.url}/v1/messages", json=body(key, tag))
            assert response.status_code == 200, response.text
            answer = response.json()
            assert (answer["provider"], answer["model"]) == ("openai", FALLBACK)
            assert answer["choices"][0]["model"] == FALLBACK
    if failure != "refused":
        assert primary.connections == 1  # asked once, then the next one
        assert key in primary.records  # and it answered as the test said
    records = await asked(client, fake, tag)
    assert len(records) == 1
    assert records[0]["model"] == FALLBACK
    assert records[0]["headers"]["authorization"] == "Bearer sk-fallback"  # its own key


async def test_a_primary_cut_after_its_first_tokens_ends_with_an_error_and_no_fallback(
    primary: RawUpstream, fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    primary.replies["cut"] = [SSE_HEAD, event("Happy "), event("birthday, ")]
    async with running(chain_env(primary.base_url, fake)) as server:
        result = await stream(client, f"{server.url}/v1/messages/stream", body("cut", "cut"))
    assert result.status == 200
    assert result.named("start")[0].data["model"] == PRIMARY
    assert result.text.startswith("Happy birthday,")
    assert [e.event for e in result.events if e.event][-1] == "error"
    assert result.named("error")[0].data["code"] == "upstream_error"
    assert not result.named("done")
    assert await asked(client, fake, "cut") == []  # a word was sent: no other upstream


@pytest.mark.parametrize("route", ["stream", "json"])
async def test_a_400_is_final_and_the_fallback_is_never_asked(
    primary: RawUpstream, fake: FakeUpstream, client: httpx.AsyncClient, route: str
) -> None:
    tag = f"refused_{route}"
    primary.replies[tag] = status_reply(400, "Bad Request")
    path = "/v1/messages/stream" if route == "stream" else "/v1/messages"
    async with running(chain_env(primary.base_url, fake)) as server:
        response = await client.post(f"{server.url}{path}", json=body(tag, tag))
        assert_error(response, 422, "rejected_by_model")
        health = (await client.get(f"{server.url}/healthz")).json()
    assert primary.connections == 1
    assert await asked(client, fake, tag) == []
    # The primary answered: it is not failing.
    assert health["upstreams"] == [
        {"model": PRIMARY, "state": "ok"},
        {"model": FALLBACK, "state": "ok"},
    ]


async def test_when_every_upstream_fails_the_last_ones_error_is_the_answer(
    primary: RawUpstream, fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    primary.replies["all"] = status_reply(429, "Too Many Requests", b"retry-after: 7\r\n")
    async with running(chain_env(primary.base_url, fake)) as server:
        response = await client.post(
            f"{server.url}/v1/messages",
            json={
                **body("all", "all"),
                "reason": "birthday [[raw all]] [[fake status=500 tag=all]]",
            },
        )
    assert_error(response, 502, "upstream_error")
    assert len(await asked(client, fake, "all")) == 1


async def test_healthz_names_each_upstreams_model_and_state_never_a_url_or_key(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    async with running(chain_env(dead, fake)) as server:
        before = (await client.get(f"{server.url}/healthz")).json()
        response = await client.post(f"{server.url}/v1/messages", json=body("h", "health"))
        assert response.status_code == 200
        after = await client.get(f"{server.url}/healthz")
    assert before["upstreams"] == [
        {"model": PRIMARY, "state": "ok"},
        {"model": FALLBACK, "state": "ok"},
    ]
    assert after.json()["upstreams"] == [
        {"model": PRIMARY, "state": "failing"},
        {"model": FALLBACK, "state": "ok"},
    ]
    for secret in ("sk-primary", "sk-fallback", "127.0.0.1:", "http"):
        assert secret not in after.text


async def test_without_fallbacks_healthz_has_no_upstreams(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async with running({"OPENAI_BASE_URL": fake.base_url, "MESSAGEBOT_MODEL": "m"}) as server:
        health = (await client.get(f"{server.url}/healthz")).json()
    assert "upstreams" not in health


async def test_the_breaker_skips_a_primary_that_keeps_failing(
    primary: RawUpstream, fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    """50 requests in a row with the primary silent: only the first 3 (the breaker's count)
    pay the attempt timeout; the others skip it."""
    primary.replies["down"] = Hang(SSE_HEAD)
    env = chain_env(primary.base_url, fake, MESSAGEBOT_BREAKER_COOLDOWN_S="3600")
    async with running(env) as server:
        for _ in range(50):
            response = await client.post(f"{server.url}/v1/messages", json=body("down", "down"))
            assert response.status_code == 200, response.text
            assert response.json()["model"] == FALLBACK
        health = (await client.get(f"{server.url}/healthz")).json()
    assert primary.connections == 3  # the timeouts paid: MESSAGEBOT_BREAKER_FAILURES
    assert len(await asked(client, fake, "down")) == 50
    assert health["upstreams"][0] == {"model": PRIMARY, "state": "failing"}


async def test_the_primary_is_used_again_once_it_is_back(
    primary: RawUpstream, fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    primary.replies["back"] = Hang()
    env = chain_env(primary.base_url, fake, MESSAGEBOT_BREAKER_COOLDOWN_S="0.5")
    async with running(env) as server:

        async def written_by() -> str:
            response = await client.post(f"{server.url}/v1/messages", json=body("back", "back"))
            assert response.status_code == 200, response.text
            return response.json()["model"]  # type: ignore[no-any-return]

        for _ in range(3):
            assert await written_by() == FALLBACK
        assert primary.connections == 3
        primary.replies["back"] = sse_reply(["Happy ", "birthday, ", "Minji!"])

        async def primary_writes() -> bool:
            return await written_by() == PRIMARY

        # Within the cool-down it is skipped; after it, the trial succeeds.
        await wait_until(primary_writes, within=10, every=0.05, what="the primary back")
        for _ in range(5):
            assert await written_by() == PRIMARY
        health = (await client.get(f"{server.url}/healthz")).json()
    assert health["upstreams"][0] == {"model": PRIMARY, "state": "ok"}


async def test_a_parallel_burst_sends_one_trial_to_a_half_open_primary(
    primary: RawUpstream, fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    primary.replies["burst"] = Hang(SSE_HEAD)
    cooldown = 0.5
    env = chain_env(primary.base_url, fake, MESSAGEBOT_BREAKER_COOLDOWN_S=str(cooldown))
    async with running(env) as server:
        for _ in range(3):
            response = await client.post(f"{server.url}/v1/messages", json=body("burst", "b0"))
            assert response.json()["model"] == FALLBACK
        assert primary.connections == 3
        # The cool-down is a timer of known length: wait it out (the primary is now half-open).
        await asyncio.sleep(cooldown + 0.1)
        answers = await asyncio.gather(
            *(client.post(f"{server.url}/v1/messages", json=body("burst", "b1")) for _ in range(30))
        )
    assert [a.status_code for a in answers] == [200] * 30
    assert {a.json()["model"] for a in answers} == {FALLBACK}
    assert primary.connections == 4  # one trial, not one per request


async def test_a_parallel_burst_spends_the_rate_limit_once_per_request(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    env = chain_env(dead, fake, MESSAGEBOT_RATE_LIMIT="10/minute")
    async with running(env) as server:
        answers = await asyncio.gather(
            *(client.post(f"{server.url}/v1/messages", json=body("rl", "rl")) for _ in range(16))
        )
    statuses = sorted(a.status_code for a in answers)
    # A failed-over request spends one unit, not one per upstream asked.
    assert statuses == [200] * 10 + [429] * 6, statuses
    assert len(await asked(client, fake, "rl")) == 10


async def test_each_of_n_messages_fails_over_on_its_own(client: httpx.AsyncClient) -> None:
    """n = 3 with the primary dropping one of its three requests before the first token."""
    first, second = FakeUpstream(chunks=6), FakeUpstream(chunks=6)
    await first.start()
    await second.start()
    try:
        env = {
            **chain_env(first.base_url, second),
            "MESSAGEBOT_MODEL": PRIMARY,
        }
        async with running(env) as server:
            result = await stream(
                client,
                f"{server.url}/v1/messages/stream",
                {
                    **body("n", "n3"),
                    "reason": "birthday [[fake drop_after=0 faulty=1 tag=n3]]",
                    "n": 3,
                },
            )
    finally:
        await first.stop()
        await second.stop()
    assert result.status == 200
    dones = {e.data["index"]: e.data for e in result.named("done")}
    assert sorted(dones) == [0, 1, 2], result.events
    models = sorted(done["model"] for done in dones.values())
    assert models == [FALLBACK, PRIMARY, PRIMARY]
    assert not result.named("error")


async def test_a_dead_primary_falls_back_to_the_embedded_model(client: httpx.AsyncClient) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    env = {
        "OPENAI_BASE_URL": dead,
        "MESSAGEBOT_MODEL": PRIMARY,
        "MESSAGEBOT_FALLBACK_1_BASE_URL": "local",
        "MESSAGEBOT_LOCAL_THREADS": "1",  # the cores are shared
        "MESSAGEBOT_UPSTREAM_RETRIES": "0",
    }
    async with running(env) as server:
        local = server.app.extensions["messagebot"].provider.chain[1]
        result = await stream(
            client,
            f"{server.url}/v1/messages/stream",
            {"name": "Minji", "relation": "wife", "reason": "birthday", "max_length": 120},
        )
        health = (await client.get(f"{server.url}/healthz")).json()
        stats = (await client.get(f"{server.url}/v1/stats")).json()
    assert result.status == 200, result.body
    # Counted under the provider that wrote it, not the primary's.
    assert stats["by_provider"] == {"local": 1}, stats
    start, done = result.named("start")[0].data, result.named("done")[0].data
    assert (start["provider"], start["model"]) == ("local", local.model)
    assert (done["provider"], done["model"]) == ("local", local.model)
    assert done["message"] == result.text and result.text
    assert health["upstreams"] == [
        {"model": PRIMARY, "state": "failing"},
        {"model": local.model, "state": "ok"},
    ]


async def test_a_fallback_that_cannot_write_the_language_is_not_asked(
    client: httpx.AsyncClient,
) -> None:
    """The embedded base model writes only en and ko: a Japanese message whose primary is down
    gets the primary's error, never English labelled ja from the fallback."""
    dead = f"http://127.0.0.1:{free_port()}/v1"
    env = {
        "OPENAI_BASE_URL": dead,
        "MESSAGEBOT_MODEL": PRIMARY,
        "MESSAGEBOT_FALLBACK_1_BASE_URL": "local",
        "MESSAGEBOT_LOCAL_THREADS": "1",
        "MESSAGEBOT_UPSTREAM_RETRIES": "0",
    }
    body = {"name": "Yuki", "relation": "friend", "reason": "birthday", "language": "ja"}
    async with running(env) as server:
        answer = await client.post(f"{server.url}/v1/messages", json=body)
        korean = await client.post(
            f"{server.url}/v1/messages", json={**body, "language": "ko", "name": "민지"}
        )
    assert answer.status_code == 502, answer.text
    assert answer.json()["error"]["code"] == "upstream_error"
    assert korean.status_code == 200, korean.text
    assert korean.json()["provider"] == "local"


async def test_each_worker_keeps_its_own_breaker(
    primary: RawUpstream, fake: FakeUpstream, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Two Hypercorn workers (separate processes): each learns on its own that the primary is
    down, so it is asked at most workers × MESSAGEBOT_BREAKER_FAILURES times (docs/api.md)."""
    primary.replies["workers"] = Hang(SSE_HEAD)
    env = chain_env(primary.base_url, fake, MESSAGEBOT_BREAKER_COOLDOWN_S="3600")
    async with hypercorn(env, 2, tmp_path / "hypercorn.log") as (port, _):
        for _ in range(30):
            # A connection of its own each time, so that both workers take some.
            async with httpx.AsyncClient(timeout=30) as own:
                response = await own.post(
                    f"http://127.0.0.1:{port}/v1/messages", json=body("workers", "workers")
                )
            assert response.status_code == 200, response.text
            assert response.json()["model"] == FALLBACK
    assert 3 <= primary.connections <= 6, primary.connections
    assert len(await asked(client, fake, "workers")) == 30
