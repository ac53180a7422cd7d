"""/v1/stats and /metrics count messages and tokens per API key name (issue 27): a `NAME:KEY`
under its name, a bare key under its fingerprint, the page under `page`, everything under
`anonymous` while no key is configured; never a key itself. Each message the client gets
counts once (issue 25): one of `n` dropped as a duplicate and asked again counts as
`duplicate`, not as a message. Across two workers, through a real redis-server."""

from __future__ import annotations

import itertools
import json
import re
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis import asyncio as aioredis

from messagebot.config import key_fingerprint
from messagebot.fake_upstream import FakeUpstream
from messagebot.web.page_token import issue_page_token

from .helpers import Server, fake_log, hypercorn, openai_env, running, stream, wait_until
from .redis_server import RedisServer, start_redis, stop_redis
from .test_ratelimit import BURST, burst

IOS, ANDROID, BARE = "k-ios-0123456789", "k-android-0123456789", "k-bare-0123456789"
SECRET = "page-secret-for-tests"
BODY = {"relation": "wife", "reason": "birthday"}
_tags = itertools.count()


def reason(directive: str) -> dict[str, Any]:
    return {**BODY, "reason": f"birthday [[fake {directive}]]"}


async def stats_when(
    client: httpx.AsyncClient, url: str, requests: int, headers: dict[str, str]
) -> dict[str, Any]:
    """/v1/stats once `requests` messages have been counted (a message is counted as it ends,
    which may be a moment after its response)."""

    async def counted() -> dict[str, Any] | None:
        stats: dict[str, Any] = (await client.get(f"{url}/v1/stats", headers=headers)).json()
        return stats if stats["requests"] >= requests else None

    found: dict[str, Any] = await wait_until(counted, within=10, what=f"{requests} counted")
    return found


def metric(text: str, name: str, **labels: str) -> float:
    """The value of one series of a scrape (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}", 1)[0]))
        if found == labels:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_messages_and_tokens_are_counted_per_key_name(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    # Names of this test's own: /metrics is the test process's, shared with other tests.
    keys = f"statsios:{IOS},statsandroid:{ANDROID},{BARE}"
    env = openai_env(fake, MESSAGEBOT_API_KEYS=keys, MESSAGEBOT_SECRET_KEY=SECRET)
    bare = key_fingerprint(BARE)
    async with running(env) as server:
        url = server.url
        ios = {"Authorization": f"Bearer {IOS}"}
        for _ in range(2):
            assert (await client.post(f"{url}/v1/messages", json=BODY, headers=ios)).is_success
        android = {"X-API-Key": ANDROID}
        three = await stream(client, f"{url}/v1/messages/stream", {**BODY, "n": 3}, headers=android)
        assert len(three.named("done")) == 3, three.sequence
        honoured = {**reason("n=honour"), "n": 2}  # one upstream reply with both: its usage
        assert (await client.post(f"{url}/v1/messages", json=honoured, headers=android)).is_success
        failed = await client.post(
            f"{url}/v1/messages", json=reason("status=500"), headers={"X-API-Key": BARE}
        )
        assert failed.status_code == 502
        page = {"X-Page-Token": issue_page_token(SECRET)}
        assert (await client.post(f"{url}/v1/messages", json=BODY, headers=page)).is_success
        bad = {"Authorization": "Bearer k-ios-guess"}
        assert (await client.post(f"{url}/v1/messages", json=BODY, headers=bad)).status_code == 401
        response = await client.get(f"{url}/v1/stats", headers=ios)
        stats = await stats_when(client, url, 2 + 3 + 2 + 1 + 1, ios)
        raw = (await client.get(f"{url}/v1/stats", headers=ios)).text
        scrape = (await client.get(f"{url}/metrics")).text
    assert response.status_code == 200
    by_key = stats["by_key"]
    assert set(by_key) == {"statsios", "statsandroid", bare, "page"}, by_key
    # The fake counts a message's completion tokens as its pieces (12 by default) and, when
    # it writes `n` in one reply, reports that reply's usage once, for all of them.
    assert by_key["statsios"] == {
        "messages": 2,
        "requests": 2,
        "prompt_tokens": by_key["statsios"]["prompt_tokens"],
        "completion_tokens": 24,
    }
    assert by_key["statsios"]["prompt_tokens"] > 0
    assert by_key["statsandroid"]["messages"] == 5 and by_key["statsandroid"]["requests"] == 5
    assert by_key["statsandroid"]["completion_tokens"] == 3 * 12 + 2 * 12
    assert by_key[bare] == {
        "messages": 0,
        "requests": 1,
        "prompt_tokens": 0,
        "completion_tokens": 0,
    }
    assert by_key["page"]["messages"] == 1 and by_key["page"]["completion_tokens"] == 12
    assert stats["messages_generated"] == 8 and stats["requests"] == 9
    for key in (IOS, ANDROID, BARE, SECRET):
        assert key not in raw and key not in scrape
    assert metric(scrape, "messagebot_key_generations_total", key="statsios", outcome="stop") == 2
    assert (
        metric(scrape, "messagebot_key_tokens_total", key="statsandroid", kind="completion") == 60
    )


async def test_without_keys_everything_is_anonymous(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async with running(openai_env(fake)) as server:
        assert (await client.post(f"{server.url}/v1/messages", json=BODY)).is_success
        stats = await stats_when(client, server.url, 1, {})
    assert list(stats["by_key"]) == ["anonymous"]
    assert stats["by_key"]["anonymous"]["messages"] == 1


async def variants(client: httpx.AsyncClient, fake: FakeUpstream, *texts: str) -> str:
    """A reply key whose k-th request gets texts[k % len(texts)]."""
    key = f"count-{next(_tags)}"
    await client.post(
        fake.base_url.removesuffix("/v1") + "/_fake/replies",
        json={"key": key, "variants": [[text] for text in texts]},
    )
    return key


async def test_a_duplicate_asked_again_is_not_counted_as_a_message(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    """n = 2 whose second message first comes out the same as the first: dropped unseen and
    asked again. The client gets two messages; two are counted, and one `duplicate`."""
    async with running(openai_env(fake)) as server:
        key = await variants(client, fake, "Happy birthday, Mina.", "Happy birthday, Mina.", "Hi!")
        before = (await client.get(f"{server.url}/metrics")).text
        response = await client.post(
            f"{server.url}/v1/messages", json={**reason(f"reply={key}"), "n": 2}
        )
        assert response.status_code == 200, response.text
        messages = [choice["message"] for choice in response.json()["choices"]]
        assert sorted(messages) == ["Happy birthday, Mina.", "Hi!"]
        stats = await stats_when(client, server.url, 2, {})
        after = (await client.get(f"{server.url}/metrics")).text
    assert stats["by_outcome"] == {"stop": 2, "duplicate": 1}, stats
    assert stats["messages_generated"] == 2 and stats["requests"] == 2
    assert stats["by_provider"] == {"openai": 2}
    # The dropped one cost its tokens all the same (one piece each here).
    assert stats["by_key"]["anonymous"]["completion_tokens"] == 3

    def grown(outcome: str) -> float:
        series = "messagebot_generations_total"
        labels = {"provider": "openai", "outcome": outcome}
        return metric(after, series, **labels) - metric(before, series, **labels)

    assert (grown("stop"), grown("duplicate")) == (2, 1)


async def test_a_duplicate_given_up_counts_its_index_once_as_its_error(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async with running(openai_env(fake)) as server:
        key = await variants(client, fake, "Happy birthday, Mina.")
        result = await stream(
            client, f"{server.url}/v1/messages/stream", {**reason(f"reply={key}"), "n": 2}
        )
        assert [e.event for e in result.events if e.event in ("done", "error")] == [
            "done",
            "error",
        ]
        stats = await stats_when(client, server.url, 2, {})
    # Index 1 was asked three times: twice dropped, then given up (its error).
    assert stats["by_outcome"] == {"stop": 1, "duplicate": 2, "upstream_error": 1}, stats
    assert stats["messages_generated"] == 1 and stats["requests"] == 2


async def test_every_message_of_n_counts_once_in_stats_and_metrics(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async with running(openai_env(fake)) as server:
        before = (await client.get(f"{server.url}/metrics")).text
        answer = await client.post(f"{server.url}/v1/messages", json={**BODY, "n": 3})
        assert len(answer.json()["choices"]) == 3
        stats = await stats_when(client, server.url, 3, {})

        async def three_more() -> bool:
            after = (await client.get(f"{server.url}/metrics")).text
            labels = {"key": "anonymous", "outcome": "stop"}
            name = "messagebot_key_generations_total"
            return metric(after, name, **labels) - metric(before, name, **labels) == 3

        await wait_until(three_more, within=5, what="three messages in /metrics")
    assert stats["by_outcome"] == {"stop": 3} and stats["by_key"]["anonymous"]["messages"] == 3


async def test_per_key_counts_are_shared_by_two_workers_through_redis(
    fake: FakeUpstream, redis_server: RedisServer, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """BURST requests per key over connections held by both workers; any worker's /v1/stats
    has every one of them."""
    env = openai_env(fake, REDIS_URL=redis_server.url, MESSAGEBOT_API_KEYS=f"ios:{IOS},{BARE}")
    async with hypercorn(env, 2, tmp_path / "server.log") as (port, pids):
        for key in (IOS, BARE):
            statuses, _ = await burst(port, {"Authorization": f"Bearer {key}"}, pids)
            assert statuses == {200: BURST}, statuses
        url = f"http://127.0.0.1:{port}"
        expected = {"ios": BURST, key_fingerprint(BARE): BURST}

        async def everywhere() -> dict[str, Any] | None:
            # Fresh connections, so that both workers answer now and then.
            answers = []
            for _ in range(6):
                async with httpx.AsyncClient(trust_env=False) as fresh:
                    answer = await fresh.get(f"{url}/v1/stats", headers={"X-API-Key": IOS})
                    answers.append(answer.json())
            counts = [{k: v["messages"] for k, v in a["by_key"].items()} for a in answers]
            return answers[0] if all(c == expected for c in counts) else None

        stats = await wait_until(everywhere, within=15, every=0.1, what="per-key counts")
    assert stats["scope"] == "redis"
    assert stats["by_key"]["ios"]["completion_tokens"] == BURST * 12
    assert IOS not in json.dumps(stats) and BARE not in json.dumps(stats)


@pytest.fixture(scope="module")
async def counting(fake: FakeUpstream) -> AsyncIterator[Server]:
    """A service of its own, so that its counts are this module's only."""
    async with running(openai_env(fake)) as served:
        yield served


@settings(  # each example is a real request through the service and the fake: the CI
    # profile's 2,000 took over ten minutes of a fresh-clone run; 150 cover n, honour and the
    # runs of duplicates many times over
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_each_message_counts_once_whatever_the_duplicates(
    fake: FakeUpstream, counting: Server, client: httpx.AsyncClient, data: st.DataObject
) -> None:
    """For any `n` and any run of texts the upstream writes (duplicates likely: three texts),
    in one reply or one request per message: `requests` grows by `n`, messages by the `done`
    events the client got, the errors by its `error` events, `duplicate` by every other
    generation the upstream wrote, and the tokens by what every generation cost."""
    n = data.draw(st.integers(2, 4), label="n")
    honour = data.draw(st.booleans(), label="honour")
    texts = data.draw(
        st.lists(st.sampled_from(["Hi Mina.", "See you soon.", "Cake today."]), min_size=1),
        label="texts",
    )
    key = await variants(client, fake, *texts)
    tag = f"prop-{next(_tags)}"
    directive = f"reply={key} tag={tag}" + (" n=honour" if honour else "")
    before = (await client.get(f"{counting.url}/v1/stats")).json()
    result = await stream(
        client, f"{counting.url}/v1/messages/stream", {**reason(directive), "n": n}
    )
    ends = [e.event for e in result.events if e.event in ("done", "error")]
    assert len(ends) == n, result.sequence
    records = await fake_log(client, fake.base_url, tag)
    generations = sum(record["choices"] for record in records)
    after = await stats_when(client, counting.url, before["requests"] + n, {})

    def grown(*path: str) -> int:
        old: Any = before
        new: Any = after
        for part in path:
            old, new = old.get(part, 0) if old else 0, new.get(part, 0)
        return int(new) - int(old)

    assert grown("requests") == n
    assert grown("messages_generated") == ends.count("done")
    assert grown("by_outcome", "upstream_error") == ends.count("error")
    assert grown("by_outcome", "duplicate") == generations - n
    assert grown("by_key", "anonymous", "messages") == ends.count("done")
    # The fake's usage: a piece per text, one usage per upstream reply.
    assert grown("by_key", "anonymous", "completion_tokens") == generations


async def test_the_form_counts_under_page_and_a_client_leaving_counts_each_message_once(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    env = openai_env(fake, MESSAGEBOT_API_KEYS=f"ios:{IOS}", MESSAGEBOT_SECRET_KEY=SECRET)
    async with running(env) as server:
        ios = {"X-API-Key": IOS}
        # The no-JavaScript form writes three, under the page's name.
        form = await client.post(
            f"{server.url}/", data={**BODY, "page_token": issue_page_token(SECRET)}
        )
        assert form.status_code == 200, form.text[:300]
        stats = await stats_when(client, server.url, 3, ios)
        assert stats["by_key"]["page"]["messages"] == 3 and "ios" not in stats["by_key"]
        # n = 3 left at its first words: each message once, as cancelled.
        slow = {**reason("chunks=200 delay=0.05"), "n": 3}
        async with (
            httpx.AsyncClient(timeout=30) as own,
            own.stream("POST", f"{server.url}/v1/messages/stream", json=slow, headers=ios) as r,
        ):
            async for line in r.aiter_lines():
                if line == "event: delta":
                    break
        stats = await stats_when(client, server.url, 6, ios)
    assert stats["by_key"]["ios"] == {
        "messages": 0,
        "requests": 3,
        "prompt_tokens": 0,
        "completion_tokens": 0,
    }
    assert stats["by_outcome"] == {"stop": 3, "cancelled": 3}, stats


async def test_per_key_counts_stay_in_the_process_while_redis_is_away(
    fake: FakeUpstream, redis_server: RedisServer, client: httpx.AsyncClient
) -> None:
    """Counted in Redis while it answers; while it is stopped (SIGSTOP: it neither answers
    nor refuses), in this process, and /v1/stats says so; the counts are never lost, nor
    counted twice."""
    env = openai_env(fake, REDIS_URL=redis_server.url, MESSAGEBOT_API_KEYS=f"ios:{IOS}")
    ios = {"X-API-Key": IOS}
    async with running(env) as server:
        assert (await client.post(f"{server.url}/v1/messages", json=BODY, headers=ios)).is_success
        stats = await stats_when(client, server.url, 1, ios)
        assert stats["scope"] == "redis" and stats["by_key"]["ios"]["messages"] == 1
        redis_server.process.send_signal(signal.SIGSTOP)
        try:
            for _ in range(2):
                answer = await client.post(f"{server.url}/v1/messages", json=BODY, headers=ios)
                assert answer.is_success

            async def local() -> dict[str, Any] | None:
                found: dict[str, Any] = (
                    await client.get(f"{server.url}/v1/stats", headers=ios)
                ).json()
                if found["scope"] != "process (redis unreachable)":
                    return None
                return found if found["by_key"].get("ios", {}).get("messages") == 2 else None

            away = await wait_until(local, within=15, every=0.1, what="stats from the process")
        finally:
            redis_server.process.send_signal(signal.SIGCONT)
        assert away["requests"] == 2  # what this process counted while Redis was away
        # Back: Redis's one and the process's two, none twice (a write that timed out had
        # sent only its MULTI: nothing of it is applied when Redis wakes up).
        back = await wait_until(
            lambda: stats_when(client, server.url, 3, ios), within=30, what="Redis again"
        )
    assert back["by_key"]["ios"]["messages"] == 3 and back["requests"] == 3


async def test_a_count_redis_refuses_inside_its_transaction_is_kept_here(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    """An ACL user that may read every key but write only the outcome counts: each message's
    transaction is refused at its per-key count, DISCARDed (the one connection is not left
    inside a transaction for the next call), and counted in this process whole."""
    acl = ["--user", "app", "on", f">{SECRET}", "%R~*", "%W~messagebot:stats", "+@all"]
    server = await start_redis(options=acl)
    try:
        url = f"redis://app:{SECRET}@127.0.0.1:{server.port}/0"
        env = openai_env(
            fake,
            REDIS_URL=url,
            MESSAGEBOT_API_KEYS=f"ios:{IOS}",
            MESSAGEBOT_REDIS_MAX_CONNECTIONS="1",
        )
        ios = {"X-API-Key": IOS}
        async with running(env) as bot:
            for _ in range(2):
                answer = await client.post(f"{bot.url}/v1/messages", json=BODY, headers=ios)
                assert answer.is_success
            stats = await stats_when(client, bot.url, 2, ios)
            health = (await client.get(f"{bot.url}/healthz")).json()
        raw = aioredis.Redis.from_url(url)
        try:
            in_redis = await raw.hgetall("messagebot:stats")
        finally:
            await raw.aclose()
    finally:
        await stop_redis(server)
    assert stats["scope"] == "redis" and health["redis"] == "ok"
    assert stats["requests"] == 2 and stats["by_key"]["ios"]["messages"] == 2
    assert in_redis == {}  # nothing of a refused transaction was applied
