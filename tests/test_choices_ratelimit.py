"""A request with `n` spends n of the rate limit's budget, at once or not at all (issue 25): in
memory and in a real redis-server, one request at a time and in a parallel burst."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from messagebot.fake_upstream import FakeUpstream

from .helpers import hypercorn, openai_env, running
from .redis_server import RedisServer

FIELDS = {"relation": "wife", "reason": "birthday [[fake chunks=all]]"}


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_n_spends_n_of_the_budget(
    fake: FakeUpstream, redis_server: RedisServer, client: httpx.AsyncClient, store: str
) -> None:
    extra = {"REDIS_URL": redis_server.url} if store == "redis" else {}
    async with running(openai_env(fake, MESSAGEBOT_RATE_LIMIT="5/hour", **extra)) as server:

        async def ask(n: int) -> httpx.Response:
            return await client.post(f"{server.url}/v1/messages", json={**FIELDS, "n": n})

        first = await ask(3)
        assert first.status_code == 200 and len(first.json()["choices"]) == 3
        assert first.headers["ratelimit-remaining"] == "2"
        refused = await ask(3)  # 2 left: the whole request is refused, none of it spent
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        second = await ask(2)
        assert second.status_code == 200 and second.headers["ratelimit-remaining"] == "0"
        assert (await ask(1)).status_code == 429


async def test_an_n_over_the_whole_budget_is_a_422_naming_n(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async with running(openai_env(fake, MESSAGEBOT_RATE_LIMIT="2/hour")) as server:
        response = await client.post(f"{server.url}/v1/messages", json={**FIELDS, "n": 3})
        assert response.status_code == 422
        assert set(response.json()["error"]["fields"]) == {"n"}
        ok = await client.post(f"{server.url}/v1/messages", json={**FIELDS, "n": 2})
        assert ok.status_code == 200  # the refused request spent nothing


BUDGET = 10
BURST = 24


async def test_a_parallel_burst_never_gets_more_messages_than_the_budget_through_redis(
    fake: FakeUpstream, redis_server: RedisServer, tmp_path: Path
) -> None:
    """BURST requests of n = 1, 2 or 3 written at once on separate connections, to two
    workers sharing one Redis: the messages written never exceed the budget."""
    env = openai_env(fake, REDIS_URL=redis_server.url, MESSAGEBOT_RATE_LIMIT=f"{BUDGET}/hour")
    async with hypercorn(env, 2, tmp_path / "server.log") as (port, _):
        connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(BURST)]
        asked = [1 + i % 3 for i in range(BURST)]
        try:
            for (_, writer), n in zip(connections, asked, strict=True):
                data = json.dumps({**FIELDS, "n": n}).encode()
                writer.write(
                    b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(data), data)
                )
            await asyncio.gather(*(writer.drain() for _, writer in connections))
            answers = await asyncio.gather(
                *(asyncio.wait_for(reader.read(), 30) for reader, _ in connections)
            )
        finally:
            for _, writer in connections:
                writer.close()
    written = 0
    statuses = []
    for answer, n in zip(answers, asked, strict=True):
        head, _, payload = answer.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        statuses.append(status)
        assert status in (200, 429), answer
        if status == 200:
            body = json.loads(payload)
            assert len(body["choices"]) == n
            written += n
    print(f"statuses {sorted(statuses)}, messages written {written} of budget {BUDGET}")
    # Never more than the budget, and never less than BUDGET - 2: each request's n (1 to 3) is
    # spent in one decision, so while 3 or more are left every request fits, and a request
    # is refused only once at most 2 are left.
    assert BUDGET - 2 <= written <= BUDGET
