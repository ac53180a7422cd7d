"""Real token usage (issue 27): streams ask the upstream for it (`stream_options:
{"include_usage": true}`), and `done.usage` and the JSON `usage` carry its counts. A server
that refuses the field (a 400 or 422 naming `stream_options`) is asked again without it, and
never asked for it again; any other 400 is still the prompt refused. The fake upstream sends
usage only when asked, as OpenAI does. (llama.cpp's server: test_real_upstream.py.)"""

from __future__ import annotations

import itertools
import json
from typing import Any

import httpx
import pytest

from messagebot.fake_upstream import FakeUpstream

from .helpers import Server, assert_error, fake_log, openai_env, running, stream

BODY = {"relation": "wife", "reason": "birthday"}
ASKED = {"include_usage": True}
_tags = itertools.count()


def tagged(directive: str = "") -> tuple[str, dict[str, Any]]:
    tag = f"usage-{next(_tags)}"
    return tag, {**BODY, "reason": f"birthday [[fake tag={tag} {directive}]]"}


def assert_counts(usage: Any, completion: int) -> None:
    assert usage is not None
    assert usage["completion_tokens"] == completion
    assert usage["prompt_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + completion


async def test_done_and_json_carry_the_upstreams_usage(
    fake: FakeUpstream, server: Server, client: httpx.AsyncClient
) -> None:
    tag, body = tagged()
    result = await stream(client, f"{server.url}/v1/messages/stream", body)
    assert_counts(result.named("done")[0].data["usage"], 12)
    answer = (await client.post(f"{server.url}/v1/messages", json=body)).json()
    assert_counts(answer["usage"], 12)
    records = await fake_log(client, fake.base_url, tag)
    assert [record["stream_options"] for record in records] == [ASKED, ASKED]


async def test_n_usage_is_per_upstream_request(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    """One reply with all `n` (an upstream that honours `n`) reports one usage: on index 0's
    done. Asked one by one, each message has its own."""
    async with running(openai_env(fake)) as server:
        _, body = tagged("n=honour chunks=6")
        shared = await stream(client, f"{server.url}/v1/messages/stream", {**body, "n": 3})
        usages = {e.data["index"]: e.data["usage"] for e in shared.named("done")}
        assert_counts(usages[0], 3 * 6)
        assert usages[1] is None and usages[2] is None
    async with running(openai_env(fake)) as server:
        _, body = tagged("chunks=6")  # the fake writes one choice: each asked on its own
        first = await stream(client, f"{server.url}/v1/messages/stream", {**body, "n": 2})
        again = await stream(client, f"{server.url}/v1/messages/stream", {**body, "n": 2})
        for result in (first, again):
            for done in result.named("done"):
                assert_counts(done.data["usage"], 6)


async def test_the_fake_sends_usage_only_when_asked(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async def chunks(**extra: Any) -> list[Any]:
        request = {
            "model": "m",
            "stream": True,
            "messages": [{"role": "user", "content": "[[fake chunks=3]]"}],
            **extra,
        }
        response = await client.post(f"{fake.base_url}/chat/completions", json=request)
        lines = [line[6:] for line in response.text.splitlines() if line.startswith("data: ")]
        assert lines[-1] == "[DONE]"
        return [json.loads(line) for line in lines[:-1]]

    assert not any("usage" in chunk for chunk in await chunks())
    assert not any("usage" in chunk for chunk in await chunks(stream_options={}))
    asked = await chunks(stream_options=ASKED)
    assert [chunk for chunk in asked if "usage" in chunk] == [asked[-1]]
    assert asked[-1]["choices"] == [] and asked[-1]["usage"]["completion_tokens"] == 3


@pytest.mark.parametrize("status", ["400", "422"])
async def test_an_upstream_that_refuses_stream_options_is_asked_without_it_and_remembered(
    fake: FakeUpstream, client: httpx.AsyncClient, status: str
) -> None:
    refusing = f"refuse=stream_options refuse_status={status}"
    async with running(openai_env(fake)) as server:
        tag, body = tagged(refusing)
        result = await stream(client, f"{server.url}/v1/messages/stream", body)
        assert result.sequence[-1] == "done", result.sequence
        assert result.named("done")[0].data["usage"] is None
        records = await fake_log(client, fake.base_url, tag)
        assert [(r["stream_options"], r["outcome"]) for r in records] == [
            (ASKED, "error"),
            (None, "completed"),
        ]
        # Remembered: not asked for again, on every route, n included.
        tag, body = tagged(refusing)
        answer = await client.post(f"{server.url}/v1/messages", json={**body, "n": 2})
        assert answer.status_code == 200 and len(answer.json()["choices"]) == 2
        assert answer.json()["usage"] is None
        records = await fake_log(client, fake.base_url, tag)
        assert records and all(r["stream_options"] is None for r in records), records


async def test_a_400_that_is_not_about_stream_options_is_the_prompt_refused(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async with running(openai_env(fake)) as server:
        tag, body = tagged("status=400")
        assert_error(
            await client.post(f"{server.url}/v1/messages", json=body), 422, "rejected_by_model"
        )
        assert len(await fake_log(client, fake.base_url, tag)) == 1  # not asked again
        tag, body = tagged()
        assert (await client.post(f"{server.url}/v1/messages", json=body)).status_code == 200
        assert [r["stream_options"] for r in await fake_log(client, fake.base_url, tag)] == [ASKED]
