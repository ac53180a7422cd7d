"""`n`: several messages for one request (issue 25), over real loopback sockets against the
fake upstream: the JSON and SSE shapes, each index's deltas adding up to its `done` however the
upstream cuts them, one failing while the others go on, a client leaving, bad `n`, stats."""

from __future__ import annotations

import asyncio
import itertools
import re
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messagebot.fake_upstream import FakeUpstream

from .helpers import Server, StreamResult, fake_log, openai_env, running, stream, wait_until

BODY = {"relation": "wife", "reason": "birthday", "max_length": 1000}
_tags = itertools.count()


@pytest.fixture(scope="module")
async def honouring(fake: FakeUpstream) -> AsyncIterator[Server]:
    """A service of its own whose every request has the fake honour `n` (as OpenAI does),
    so that it never learns that an upstream ignores `n`."""
    async with running(openai_env(fake)) as served:
        yield served


def body(directive: str, **fields: Any) -> dict[str, Any]:
    return {**BODY, "reason": f"birthday [[fake {directive}]]", **fields}


def by_index(result: StreamResult) -> tuple[dict[int, str], dict[int, dict[str, Any]]]:
    """Each index's deltas joined, and each index's ending event (done or error)."""
    texts: dict[int, str] = defaultdict(str)
    endings: dict[int, dict[str, Any]] = {}
    for event in result.events:
        if event.event in ("delta", "done", "error"):
            index = event.data["index"]
            assert index not in endings, f"{event.event} for index {index} after its end"
            if event.event == "delta":
                texts[index] += event.data["text"]
            else:
                endings[index] = {"event": event.event, **event.data}
    return dict(texts), endings


async def test_json_gives_n_different_messages_and_the_first_on_top(
    server: Server, client: httpx.AsyncClient
) -> None:
    response = await client.post(f"{server.url}/v1/messages", json=body("chunks=all", n=3))
    assert response.status_code == 200, response.text
    answer = response.json()
    choices = answer["choices"]
    assert [c["index"] for c in choices] == [0, 1, 2]
    assert len({c["message"] for c in choices}) == 3
    for choice in choices:
        assert set(choice) == {"index", "message", "length", "finish_reason", "provider", "model"}
        assert choice["length"] == len(choice["message"])
    top = {k: answer[k] for k in ("message", "length", "finish_reason")}
    assert top == {k: choices[0][k] for k in ("message", "length", "finish_reason")}


async def test_json_with_n_1_has_one_choice(server: Server, client: httpx.AsyncClient) -> None:
    response = await client.post(f"{server.url}/v1/messages", json=body("chunks=all"))
    answer = response.json()
    assert answer["choices"] == [
        {
            "index": 0,
            "message": answer["message"],
            "length": answer["length"],
            "finish_reason": answer["finish_reason"],
            "provider": "openai",
            "model": "fake-model",
        }
    ]


@settings(  # as many examples as the profile says (conftest.py): 200 at a desk, 2,000 in CI
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_each_index_adds_up_to_its_done_however_the_upstream_cuts_and_interleaves(
    fake: FakeUpstream,
    server: Server,
    honouring: Server,
    client: httpx.AsyncClient,
    data: st.DataObject,
) -> None:
    n = data.draw(st.integers(1, 5), label="n")
    # One reply with n choices interleaved (OpenAI), or one request per message (llama.cpp).
    honour = data.draw(st.booleans(), label="honour")
    # Plain messages (nothing for the service to take off), all different; some may be the
    # start of another ("Hi Mina." and "Hi Mina. See you soon."), which must still arrive
    # whole, each under its own index.
    words = st.sampled_from(["Hi", "Mina", "see", "you", "soon", "love", "cake", "today", "유나"])
    sentence = st.lists(words, min_size=1, max_size=6).map(lambda w: " ".join(w) + ".")
    texts = data.draw(
        st.lists(
            st.lists(sentence, min_size=1, max_size=3).map(" ".join),
            min_size=n,
            max_size=n,
            unique=True,
        ),
        label="texts",
    )
    variants = []
    for text in texts:  # each cut at random points
        cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(text) - 1)), max_size=12)))
        variants.append([text[a:b] for a, b in itertools.pairwise([0, *cuts, len(text)])])
    key = f"cuts-{next(_tags)}"
    await client.post(
        fake.base_url.removesuffix("/v1") + "/_fake/replies",
        json={"key": key, "variants": variants},
    )
    delay = data.draw(st.sampled_from(["0", "0.001", "0.003"]), label="delay")
    directive = f"reply={key} delay={delay}"
    if honour:
        directive += f" n=honour interleave={data.draw(st.integers(0, 1000), label='order')}"
    service = honouring if honour else server
    result = await stream(client, f"{service.url}/v1/messages/stream", body(directive, n=n))
    assert result.status == 200, result.body
    assert result.events[0].event == "start" and result.events[0].data["n"] == n
    joined, endings = by_index(result)
    assert sorted(endings) == list(range(n))
    for index, ending in endings.items():
        assert ending["event"] == "done", ending
        assert joined.get(index, "") == ending["message"]
    # Each text arrives byte-identical, once: which index gets which is the upstream's order.
    assert sorted(e["message"] for e in endings.values()) == sorted(texts)
    assert [e.event for e in result.events if e.event][-1] == "done"


async def test_a_duplicate_is_asked_again_and_then_given_up_for_that_index(
    fake: FakeUpstream, server: Server, client: httpx.AsyncClient
) -> None:
    tag = f"dup-{next(_tags)}"
    key = f"same-{tag}"
    await client.post(
        fake.base_url.removesuffix("/v1") + "/_fake/replies",
        json={"key": key, "variants": [["Happy ", "birthday, Mina."]]},
    )
    result = await stream(
        client, f"{server.url}/v1/messages/stream", body(f"reply={key} tag={tag}", n=2)
    )
    joined, endings = by_index(result)
    assert endings[0]["event"] == "done" and endings[0]["message"] == "Happy birthday, Mina."
    assert endings[1] == {
        "event": "error",
        "index": 1,
        "code": "upstream_error",
        "message": "The model wrote the same message as another one of this request.",
    }
    assert 1 not in joined  # nothing of the duplicate was shown
    # Two requests, then index 1 asked again twice (MAX_DUPLICATE_RETRIES).
    assert len(await fake_log(client, fake.base_url, tag)) == 4


async def test_one_failing_mid_way_ends_only_that_message(
    fake: FakeUpstream, server: Server, client: httpx.AsyncClient
) -> None:
    for fault in ("drop_after=3", "error_after=3", "garbage_after=3"):
        tag = f"one-fails-{next(_tags)}"
        directive = f"chunks=12 delay=0.01 faulty=1 {fault} tag={tag}"
        result = await stream(client, f"{server.url}/v1/messages/stream", body(directive, n=3))
        joined, endings = by_index(result)
        failed = [i for i, e in endings.items() if e["event"] == "error"]
        assert len(failed) == 1, endings
        assert endings[failed[0]]["code"] == "upstream_error"
        for index, ending in endings.items():
            if index not in failed:
                assert ending["event"] == "done" and ending["message"] == joined[index]
        assert sorted(endings) == [0, 1, 2]


async def test_a_client_leaving_closes_every_upstream_request(
    fake: FakeUpstream, server: Server
) -> None:
    tag = f"leave-n-{next(_tags)}"
    async with (
        httpx.AsyncClient(timeout=10) as own,
        own.stream(
            "POST",
            f"{server.url}/v1/messages/stream",
            json=body(f"chunks=300 delay=0.05 tag={tag}", n=3),
        ) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("event: delta"):
                break
    # Leaving the block closed the connection.
    async with httpx.AsyncClient(timeout=10) as client:

        async def all_closed() -> list[str] | None:
            records = await fake_log(client, fake.base_url, tag)
            outcomes = [r["outcome"] for r in records]
            return outcomes if outcomes == ["client_closed"] * 3 else None

        await wait_until(all_closed, within=5, what="every upstream request closed")


@pytest.mark.parametrize("bad", [0, 6, 2.5, "x", True, "2", None, [2]])
async def test_every_bad_n_is_a_422_naming_n(
    server: Server, client: httpx.AsyncClient, bad: Any
) -> None:
    response = await client.post(f"{server.url}/v1/messages", json={**BODY, "n": bad})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and set(error["fields"]) == {"n"}
    assert error["fields"]["n"] != "unknown field"  # the field's own rule said no


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/v1/messages/stream", {"Accept": "text/plain"}), ("/streaming/", {})],
)
async def test_raw_text_needs_n_1(
    fake: FakeUpstream, server: Server, client: httpx.AsyncClient, path: str, headers: Any
) -> None:
    tag = f"raw-n-{next(_tags)}"
    response = await client.post(
        f"{server.url}{path}", json=body(f"tag={tag}", n=3), headers=headers
    )
    assert response.status_code == 422, response.text
    assert set(response.json()["error"]["fields"]) == {"n"}
    assert await fake_log(client, fake.base_url, tag) == []  # nothing was asked upstream
    ok = await client.post(f"{server.url}{path}", json=body("chunks=all", n=1), headers=headers)
    assert ok.status_code == 200


async def test_stats_and_metrics_count_messages(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async with running(openai_env(fake)) as server:

        async def generated() -> float:
            text = (await client.get(f"{server.url}/metrics")).text
            found = re.search(
                r'^messagebot_generations_total\{(?=[^}]*outcome="stop")(?=[^}]*provider="openai")'
                r"[^}]*\} (\S+)$",
                text,
                re.M,
            )
            return float(found.group(1)) if found else 0.0

        before = await generated()
        response = await client.post(f"{server.url}/v1/messages", json=body("chunks=all", n=3))
        assert response.status_code == 200

        # The metrics are the process's (every app of the test run): count the difference.
        async def three_more() -> bool:
            return await generated() == before + 3

        await wait_until(three_more, within=5, what="three generations in /metrics")

        async def counted() -> dict[str, Any] | None:
            stats = (await client.get(f"{server.url}/v1/stats")).json()
            return stats if stats["messages_generated"] == 3 else None

        stats = await wait_until(counted, within=5, what="three messages counted")
        assert stats["by_outcome"] == {"stop": 3}


async def test_n_streams_side_by_side_not_one_after_the_other(
    server: Server, client: httpx.AsyncClient
) -> None:
    """n = 3 on an upstream that writes one message per request (the fake, like llama.cpp's
    server) takes about the time of one message, not three."""
    loop = asyncio.get_running_loop()
    begun = loop.time()
    one = await stream(client, f"{server.url}/v1/messages/stream", body("chunks=20 delay=0.02"))
    single = loop.time() - begun
    begun = loop.time()
    three = await stream(
        client, f"{server.url}/v1/messages/stream", body("chunks=20 delay=0.02", n=3)
    )
    triple = loop.time() - begun
    assert one.named("done") and len(three.named("done")) == 3
    assert triple < 2 * single, (single, triple)


async def test_an_upstream_that_honours_n_is_asked_once(
    fake: FakeUpstream, honouring: Server, client: httpx.AsyncClient
) -> None:
    tag = f"honour-{next(_tags)}"
    result = await stream(
        client,
        f"{honouring.url}/v1/messages/stream",
        body(f"chunks=8 delay=0.01 n=honour tag={tag}", n=3),
    )
    joined, endings = by_index(result)
    assert sorted(endings) == [0, 1, 2]
    assert all(e["event"] == "done" and e["message"] == joined[i] for i, e in endings.items())
    assert len({e["message"] for e in endings.values()}) == 3
    records = await fake_log(client, fake.base_url, tag)
    assert [(r["n"], r["choices"]) for r in records] == [(3, 3)]


async def test_an_upstream_that_ignores_n_is_asked_for_the_rest_then_remembered(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async with running(openai_env(fake)) as server:  # a service that knows nothing yet
        for round_ in ("first", "then"):
            tag = f"ignore-{round_}-{next(_tags)}"
            response = await client.post(
                f"{server.url}/v1/messages", json=body(f"chunks=all tag={tag}", n=3)
            )
            assert response.status_code == 200, response.text
            assert len({c["message"] for c in response.json()["choices"]}) == 3
            records = await fake_log(client, fake.base_url, tag)
            asked = sorted((r["n"], r["choices"]) for r in records)
            if round_ == "first":  # one request with n = 3, one choice back, two more asked
                assert asked == [(1, 1), (1, 1), (3, 1)]
            else:  # known now: one request per message from the start
                assert asked == [(1, 1), (1, 1), (1, 1)]


async def test_a_client_leaving_closes_the_one_reply_of_n(
    fake: FakeUpstream, honouring: Server
) -> None:
    tag = f"leave-honour-{next(_tags)}"
    async with (
        httpx.AsyncClient(timeout=10) as own,
        own.stream(
            "POST",
            f"{honouring.url}/v1/messages/stream",
            json=body(f"chunks=300 delay=0.05 n=honour tag={tag}", n=3),
        ) as response,
    ):
        async for line in response.aiter_lines():
            if line.startswith("event: delta"):
                break
    async with httpx.AsyncClient(timeout=10) as client:

        async def closed() -> list[str] | None:
            outcomes = [r["outcome"] for r in await fake_log(client, fake.base_url, tag)]
            return outcomes if outcomes == ["client_closed"] else None

        await wait_until(closed, within=5, what="the reply closed")


async def test_a_reply_of_n_that_breaks_ends_each_unfinished_message(
    honouring: Server, client: httpx.AsyncClient
) -> None:
    """One reply carries all n: when its connection drops, every message still being written
    ends with its error (there is no other message to go on with)."""
    result = await stream(
        client,
        f"{honouring.url}/v1/messages/stream",
        body("chunks=12 delay=0.01 n=honour drop_after=5", n=3),
    )
    _, endings = by_index(result)
    assert sorted(endings) == [0, 1, 2]
    assert {e["event"] for e in endings.values()} == {"error"}
    assert {e["code"] for e in endings.values()} == {"upstream_error"}


@pytest.mark.parametrize("variants", [[["Hi.", " Hi."], ["Hi."]], [["Hi."], ["Hi.", " Hi."]]])
async def test_a_message_that_is_the_start_of_another_is_not_a_duplicate(
    fake: FakeUpstream, server: Server, client: httpx.AsyncClient, variants: list[list[str]]
) -> None:
    """Found by the property above (2,000 examples): "Hi." and "Hi. Hi." are two messages."""
    key = f"prefix-{next(_tags)}"
    await client.post(
        fake.base_url.removesuffix("/v1") + "/_fake/replies",
        json={"key": key, "variants": variants},
    )
    result = await stream(client, f"{server.url}/v1/messages/stream", body(f"reply={key}", n=2))
    joined, endings = by_index(result)
    assert sorted(e["message"] for e in endings.values()) == ["Hi.", "Hi. Hi."], endings
    assert all(joined[i] == e["message"] for i, e in endings.items())
