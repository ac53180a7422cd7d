"""Streams that end well however they break: fault injection over real sockets."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from messagebot.fake_upstream import SPLITS, TEXTS, FakeUpstream
from messagebot.generation import GenerationService

from .helpers import (
    Server,
    StreamResult,
    openai_env,
    parse_sse,
    running,
    stream,
    wait_for_record,
    wait_until,
)

BODY = {"name": "Minji", "relation": "wife", "reason": "birthday", "max_length": 1000}


def body(directive: str) -> dict[str, Any]:
    return {**BODY, "reason": f"birthday [[fake {directive}]]"}


def assert_one_ending(result: StreamResult, ending: str) -> None:
    """start first, exactly one done or error, and it is last."""
    names = [e.event for e in result.events if e.event]
    assert names[0] == "start"
    assert names.count("done") + names.count("error") == 1
    assert names[-1] == ending


def service_of(server: Server) -> GenerationService:
    return server.app.extensions["messagebot"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("mode", ["sse", "text", "legacy"])
async def test_client_leaving_closes_the_upstream_at_once(
    fake: FakeUpstream, server: Server, client: httpx.AsyncClient, mode: str
) -> None:
    tag = f"leave-{mode}"
    path = "/streaming/" if mode == "legacy" else "/v1/messages/stream"
    headers = {"Accept": "text/plain"} if mode == "text" else {}
    loop = asyncio.get_running_loop()
    # Its own client, so that leaving closes the connection.
    async with (
        httpx.AsyncClient(timeout=10) as own,
        own.stream(
            "POST",
            f"{server.url}{path}",
            json=body(f"chunks=200 delay=0.05 tag={tag}"),
            headers=headers,
        ) as response,
    ):
        assert response.status_code == 200
        received = ""
        async for text in response.aiter_text():
            received += text
            if "birthday!" in received:
                break
    left = loop.time()
    record = await wait_for_record(client, fake, tag, "client_closed")
    # Closed by us, not run to its end: the fake says client_closed, and well before the 10 s
    # its 200 chunks take (no tighter bound: these machines are shared; 0.25 s failed under load).
    assert record["ended"] - left < 5, record["ended"] - left
    assert record["sent"] < 200
    service = service_of(server)
    await wait_until(lambda: not service.active, within=5, what="no generation in flight")


async def test_heartbeat_while_the_model_is_slow(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async with running(openai_env(fake, MESSAGEBOT_HEARTBEAT_S="0.2")) as server:
        result = await stream(client, f"{server.url}/v1/messages/stream", body("chunks=2 delay=1"))
    assert_one_ending(result, "done")
    seq = result.sequence
    # start goes out at once; pings fill the silent second before each piece.
    assert seq[0] == "start" and seq[1] == ":ping"
    between = seq[seq.index("delta") + 1 : seq.index("done")]
    assert 3 <= between.count(":ping") <= 6, seq
    assert result.text == "Happy birthday!"


async def test_no_ping_while_text_flows(fake: FakeUpstream, client: httpx.AsyncClient) -> None:
    async with running(openai_env(fake, MESSAGEBOT_HEARTBEAT_S="0.5")) as server:
        result = await stream(
            client, f"{server.url}/v1/messages/stream", body("chunks=10 delay=0.05")
        )
    assert ":ping" not in result.sequence


async def test_start_comes_before_the_first_token(
    fake: FakeUpstream, server: Server, client: httpx.AsyncClient
) -> None:
    loop = asyncio.get_running_loop()
    sent = loop.time()
    async with client.stream(
        "POST", f"{server.url}/v1/messages/stream", json=body("chunks=2 delay=1.5")
    ) as response:
        first = await anext(parse_sse(response.aiter_lines()))
        assert first.event == "start"
        assert first.at - sent < 1.0


async def test_first_token_timeout_after_start_is_an_error_event(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    env = openai_env(fake, MESSAGEBOT_FIRST_TOKEN_TIMEOUT_S="0.5")
    async with running(env) as server:
        loop = asyncio.get_running_loop()
        sent = loop.time()
        result = await stream(
            client, f"{server.url}/v1/messages/stream", body("hang_after=0 tag=hang0")
        )
        assert_one_ending(result, "error")
        error = result.named("error")[0]
        assert error.data["code"] == "upstream_timeout"
        assert 0.4 < error.at - sent < 2.0
        await wait_for_record(client, fake, "hang0", "client_closed")


async def test_generation_timeout_is_an_error_event(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    env = openai_env(fake, MESSAGEBOT_GENERATION_TIMEOUT_S="1")
    async with running(env) as server:
        result = await stream(
            client, f"{server.url}/v1/messages/stream", body("chunks=50 delay=0.1 tag=slowgen")
        )
        assert_one_ending(result, "error")
        assert result.named("error")[0].data == {
            "index": 0,
            "code": "upstream_timeout",
            "message": "The message took too long to write.",
        }
        assert 3 <= len(result.named("delta")) <= 12
        await wait_for_record(client, fake, "slowgen", "client_closed")


async def test_json_mode_generation_timeout_is_504(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    env = openai_env(fake, MESSAGEBOT_GENERATION_TIMEOUT_S="0.5")
    async with running(env) as server:
        response = await client.post(f"{server.url}/v1/messages", json=body("chunks=50 delay=0.05"))
    assert response.status_code == 504
    assert response.json()["error"]["code"] == "upstream_timeout"


@pytest.mark.parametrize(
    ("directive", "message"),
    [
        ("drop_after=3", "The language model service is unreachable or dropped the connection."),
        ("garbage_after=2", "The language model service sent a broken reply."),
        ("error_after=2", "The language model service reported an error mid-way."),
    ],
)
async def test_upstream_breaking_mid_stream_is_an_error_event(
    server: Server, client: httpx.AsyncClient, directive: str, message: str
) -> None:
    loop = asyncio.get_running_loop()
    sent = loop.time()
    result = await stream(
        client, f"{server.url}/v1/messages/stream", body(f"chunks=20 delay=0.01 {directive}")
    )
    assert_one_ending(result, "error")
    assert result.named("error")[0].data == {
        "index": 0,
        "code": "upstream_error",
        "message": message,
    }
    assert result.named("error")[0].at - sent < 2.0
    assert result.text.startswith("Happy birthday!")


async def test_upstream_breaking_mid_stream_in_json_mode_is_502(
    server: Server, client: httpx.AsyncClient
) -> None:
    response = await client.post(f"{server.url}/v1/messages", json=body("drop_after=3"))
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_error"


@pytest.mark.parametrize("max_length", [20, 21, 33, 57, 100])
@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("split", SPLITS)
async def test_length_never_exceeded_and_deltas_equal_done(
    server: Server, client: httpx.AsyncClient, max_length: int, lang: str, split: str
) -> None:
    result = await stream(
        client,
        f"{server.url}/v1/messages/stream",
        {**body(f"split={split} delay=0.002 chunks=all lang={lang}"), "max_length": max_length},
    )
    assert_one_ending(result, "done")
    done = result.named("done")[0].data
    assert done["message"] == result.text
    assert done["length"] == len(done["message"]) <= max_length
    assert done["finish_reason"] == "length"
    # Cut on a word boundary: the message is the model's text up to where a word ended.
    text = TEXTS[lang]
    assert done["message"] and text.startswith(done["message"]), done["message"]
    assert text[len(done["message"])].isspace(), done["message"]


@pytest.mark.slow
async def test_a_70_second_stream_with_pings_completes(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    """Quart's 60 s response timeout must not cut a legitimate long stream."""
    async with (
        running(openai_env(fake, MESSAGEBOT_HEARTBEAT_S="5")) as server,
        httpx.AsyncClient(timeout=120) as slow,
    ):
        result = await stream(slow, f"{server.url}/v1/messages/stream", body("chunks=4 delay=17.5"))
    assert_one_ending(result, "done")
    assert result.events[-1].at - result.events[0].at > 69
    assert result.sequence.count(":ping") >= 10
    assert result.text == "Happy birthday! Wishing you"
