"""The rate limit (MESSAGEBOT_RATE_LIMIT): per client address or per key, behind a proxy only
with MESSAGEBOT_TRUST_PROXY, and holding under a burst of parallel requests: in one worker,
across two workers sharing a real redis-server, and in memory. 50 requests leave 50 raw
sockets at once. (The page token's budget: test_page_token.py; which routes spend it:
test_route_policies.py; a bad value: test_config.py.)"""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter
from pathlib import Path

import httpx
import pytest

from messagebot.fake_upstream import FakeUpstream

from .helpers import (
    connections_by_process,
    free_port,
    hypercorn,
    openai_env,
    running,
    status_counts,
    wait_until,
)
from .redis_server import RedisServer

BURST = 50
BUDGET = 5
# Per hour, so that no request of the burst can be let through by the budget refilling (one
# every 12 minutes), however slow the machine: exactly BUDGET may pass.
LIMIT = f"{BUDGET}/hour"
BODY = b'{"relation": "wife", "reason": "birthday"}'
FIELDS = {"relation": "wife", "reason": "birthday"}


def established_by_worker(port: int, pids: list[int]) -> Counter[int]:
    """How many of the connections to `port` each worker holds."""
    return connections_by_process(port, pids, remote=False)


Connections = list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]


async def spread_connections(port: int, pids: list[int]) -> Connections:
    """BURST connections, all accepted, held by every worker. Which worker accepts a
    connection is the kernel's choice, and now and then one takes them all: then they are
    closed (no request was written on them) and opened again, within a deadline."""
    loop = asyncio.get_running_loop()
    end = loop.time() + 30
    while True:
        connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(BURST)]

        def accepted() -> Counter[int] | None:
            held = established_by_worker(port, pids)
            return held if sum(held.values()) == BURST else None

        held = await wait_until(accepted, within=10, every=0.02, what="connections accepted")
        print(f"connections per worker: {sorted(held.values())}")
        if len(held) == len(pids):
            return connections
        for _, writer in connections:
            writer.close()
        await asyncio.gather(*(writer.wait_closed() for _, writer in connections))
        # Both workers take part, or the test would not test sharing.
        assert loop.time() < end, f"every try, one worker took every connection: {held}"

        def released() -> bool:
            return not established_by_worker(port, pids)

        await wait_until(released, within=10, every=0.02, what="the connections closed")


async def burst(
    port: int, headers: dict[str, str], pids: list[int] | None = None
) -> tuple[Counter[int], list[bytes]]:
    """BURST requests at once: every connection is open (and, with `pids`, accepted, by
    every worker) before any request is written, then all are written together."""
    if pids is not None:
        connections = await spread_connections(port, pids)
    else:
        connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(BURST)]
    try:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = (
            "POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(BODY)}\r\nConnection: close\r\n{head}\r\n"
        ).encode() + BODY
        for _, writer in connections:
            writer.write(request)
        await asyncio.gather(*(writer.drain() for _, writer in connections))
        answers = await asyncio.gather(
            *(asyncio.wait_for(reader.read(), 30) for reader, _ in connections)
        )
    finally:
        for _, writer in connections:
            writer.close()
    return status_counts(answers), answers


def header(answer: bytes, name: str) -> str | None:
    head = answer.partition(b"\r\n\r\n")[0].decode("latin-1")
    found = re.search(rf"\r\n{name}: ([^\r]*)\r\n", head + "\r\n", re.I)
    return found.group(1) if found else None


def assert_limited(statuses: Counter[int], answers: list[bytes], log_path: Path) -> None:
    warnings = [line for line in log_path.read_text().splitlines() if "WARNING" in line]
    assert statuses == {200: BUDGET, 429: BURST - BUDGET}, (statuses, warnings)
    remaining = []
    for answer in answers:
        if answer.startswith(b"HTTP/1.1 429"):
            assert b'"code":"rate_limited"' in answer.replace(b" ", b"")
            assert 1 <= int(header(answer, "retry-after") or 0) <= 3600, answer
        else:
            remaining.append(int(header(answer, "ratelimit-remaining") or -1))
    # Each request that passed was decided after the one before it had spent its part.
    assert sorted(remaining) == list(range(BUDGET)), remaining


@pytest.mark.parametrize("workers", [1, 2])
async def test_a_burst_gets_at_most_the_budget_through_redis(
    fake: FakeUpstream, redis_server: RedisServer, workers: int, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    env = openai_env(
        fake,
        REDIS_URL=redis_server.url,
        MESSAGEBOT_RATE_LIMIT=LIMIT,
        MESSAGEBOT_API_KEYS="k1",
    )
    async with hypercorn(env, workers, log) as (port, pids):
        statuses, answers = await burst(
            port, {"Authorization": "Bearer k1"}, pids if workers > 1 else None
        )
        print(f"{workers} worker(s), Redis, one key: {dict(statuses)}")
        assert_limited(statuses, answers, log)
        # Per client IP as well, when no key is given (the API open).
    env = openai_env(fake, REDIS_URL=redis_server.url, MESSAGEBOT_RATE_LIMIT=LIMIT)
    async with hypercorn(env, workers, log) as (port, pids):
        statuses, answers = await burst(port, {}, pids if workers > 1 else None)
        print(f"{workers} worker(s), Redis, one IP: {dict(statuses)}")
        assert_limited(statuses, answers, log)


async def test_a_burst_gets_at_most_the_budget_in_memory(
    fake: FakeUpstream, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    env = openai_env(fake, MESSAGEBOT_RATE_LIMIT=LIMIT, MESSAGEBOT_API_KEYS="k1")
    async with hypercorn(env, 1, log) as (port, _):
        statuses, answers = await burst(port, {"X-API-Key": "k1"})
        print(f"1 worker, in memory: {dict(statuses)}")
        assert_limited(statuses, answers, log)


async def test_redis_over_tls(
    fake: FakeUpstream, tls_redis_server: RedisServer, tmp_path: Path
) -> None:
    """rediss:// to a TLS redis-server with a self-signed certificate, not verified
    (MESSAGEBOT_REDIS_VERIFY=off, as Heroku's Redis needs): the script runs there as well."""
    log = tmp_path / "server.log"
    env = openai_env(
        fake,
        REDIS_URL=tls_redis_server.url,
        MESSAGEBOT_REDIS_VERIFY="off",
        MESSAGEBOT_RATE_LIMIT=LIMIT,
    )
    async with hypercorn(env, 1, log) as (server_port, _):
        statuses, answers = await burst(server_port, {})
        print(f"1 worker, Redis over TLS: {dict(statuses)}")
        assert_limited(statuses, answers, log)


async def test_unreachable_redis_fails_open_loudly(
    fake: FakeUpstream, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Nobody listens at REDIS_URL: requests pass, the log says the limit is not enforced,
    and /metrics counts each request let through unchecked."""

    def unenforced(text: str) -> float:
        for line in text.splitlines():
            if line.startswith("messagebot_rate_limit_unenforced_total "):
                return float(line.split()[1])
        raise AssertionError("no messagebot_rate_limit_unenforced_total in /metrics")

    env = openai_env(
        fake, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", MESSAGEBOT_RATE_LIMIT="1/hour"
    )
    async with running(env) as server:
        before = unenforced((await client.get(f"{server.url}/metrics")).text)
        for _ in range(3):
            response = await client.post(
                f"{server.url}/v1/messages", json={"relation": "mom", "reason": "birthday"}
            )
            assert response.status_code == 200, response.text
        after = unenforced((await client.get(f"{server.url}/metrics")).text)
    assert after - before == 3
    assert "Redis unreachable, rate limits are not enforced" in caplog.text


@pytest.mark.parametrize("store", ["redis", "memory"])
async def test_gcra_burst_then_steady_rate(redis_server: RedisServer, store: str) -> None:
    """2/second: two at once, then the third is told how long to wait, and passes once that
    time is over (not before). In Redis, after a SCRIPT FLUSH too (as after a restart)."""
    from messagebot.config import parse_rate_limit
    from messagebot.web.ratelimit import MemoryLimiter, RedisLimiter

    limit = parse_rate_limit("2/second")
    limiter = RedisLimiter(redis_server.url) if store == "redis" else MemoryLimiter()
    await limiter.startup()
    try:
        first, second, third = [await limiter.hit("messagebot:rate:t", limit) for _ in range(3)]
        assert first and second and third
        assert (first.allowed, first.remaining) == (True, 1)
        assert (second.allowed, second.remaining) == (True, 0)
        assert not third.allowed and 0 < third.wait_us <= 500_000
        loop = asyncio.get_running_loop()
        refused_at = loop.time()
        if store == "redis":
            flush = await asyncio.create_subprocess_exec(
                "redis-cli", "-p", str(redis_server.port), "SCRIPT", "FLUSH",
                stdout=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            assert await flush.wait() == 0

        async def passes() -> bool:
            verdict = await limiter.hit("messagebot:rate:t", limit)
            assert verdict is not None
            return verdict.allowed

        await wait_until(passes, within=5, every=0.01, what="the next request to pass")
        # Not before the wait it was told (less a little: Redis's clock is not ours).
        assert loop.time() - refused_at >= third.wait_us / 1_000_000 - 0.05
        # And another budget for another client.
        other = await limiter.hit("messagebot:rate:other", limit)
        assert other and other.allowed
    finally:
        await limiter.shutdown()


async def test_a_frozen_redis_costs_a_few_requests_not_every_one(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis stopped (SIGSTOP): the calls under way give up on their own timeout (half a
    second), and every request waiting its turn then passes at once without asking Redis
    instead of waiting to time out in its turn (40 requests, 4 at a time, would take 5 s).
    Once Redis is back, the limit is back."""
    from messagebot.config import parse_rate_limit
    from messagebot.redis_connection import MAX_CONNECTIONS
    from messagebot.web.ratelimit import RedisLimiter

    limit = parse_rate_limit("1000/hour")
    limiter = RedisLimiter(redis_server.url)
    await limiter.startup()
    try:
        assert await limiter.hit("messagebot:rate:f", limit)  # connected, script loaded
        pool = limiter._redis.pool
        redis_server.process.send_signal(signal.SIGSTOP)
        try:
            hits = asyncio.gather(*(limiter.hit("messagebot:rate:f", limit) for _ in range(40)))
            # A deadline, not a speed goal (these machines are shared): only a hit that
            # hangs on the frozen Redis, its timeout gone, fails here.
            try:
                verdicts = await asyncio.wait_for(hits, timeout=30)
            except TimeoutError:
                raise AssertionError("the hits hung on a frozen Redis for 30 s") from None
        finally:
            redis_server.process.send_signal(signal.SIGCONT)
        assert verdicts == [None] * 40  # let through, unchecked
        # Only the calls under way when it froze waited for Redis, and gave up on a timeout
        # (each opening the breaker); the others passed without asking it, none after
        # waiting its whole queue time for a turn.
        assert 1 <= pool.unanswered <= MAX_CONNECTIONS, pool.unanswered
        assert pool.waited_out == 0, pool.waited_out
        assert "Redis unreachable, rate limits are not enforced: Timeout" in caplog.text

        async def checked_again() -> bool:
            return await limiter.hit("messagebot:rate:f", limit) is not None

        await wait_until(checked_again, within=10, every=0.05, what="the limit checked again")
    finally:
        await limiter.shutdown()


async def test_only_what_writes_a_message_spends_the_budget(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    """Preflights, health, stats, docs and metrics are free; the three message routes share
    one budget, and every limited answer says what is left."""
    env = openai_env(fake, MESSAGEBOT_RATE_LIMIT="2/hour")
    async with running(env) as server:
        for _ in range(3):
            for path in ("/v1/messages", "/v1/messages/stream", "/streaming/"):
                for headers in (
                    {},
                    {"Origin": "https://example.org", "Access-Control-Request-Method": "POST"},
                ):
                    options = await client.options(f"{server.url}{path}", headers=headers)
                    assert options.status_code != 429
            for path in ("/healthz", "/v1/stats", "/openapi.json", "/metrics"):
                assert (await client.get(f"{server.url}{path}")).status_code == 200
        body = {"relation": "mom", "reason": "birthday"}
        first = await client.post(f"{server.url}/v1/messages", json=body)
        second = await client.post(f"{server.url}/streaming/", json=body)
        third = await client.post(f"{server.url}/v1/messages/stream", json=body)
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in (first, second, third)] == ["1", "0", "0"]
    assert all(r.headers["ratelimit-limit"] == "2" for r in (first, second, third))
    assert 1 <= int(third.headers["retry-after"]) <= 1800
    assert int(third.headers["ratelimit-reset"]) > 1800


# --- per client and per key, in one worker -----------------------------------------------


async def test_rate_limit_per_client_ip(fake: FakeUpstream, client: httpx.AsyncClient) -> None:
    async with running(openai_env(fake, MESSAGEBOT_RATE_LIMIT="3/minute")) as server:
        statuses = [
            (await client.post(f"{server.url}/v1/messages", json=FIELDS)).status_code
            for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        limited = await client.post(f"{server.url}/v1/messages/stream", json=FIELDS)
        assert limited.status_code == 429
        assert limited.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # Health and stats are not limited.
        assert (await client.get(f"{server.url}/healthz")).status_code == 200
        assert (await client.get(f"{server.url}/v1/stats")).status_code == 200


async def test_rate_limit_per_key(fake: FakeUpstream, client: httpx.AsyncClient) -> None:
    env = openai_env(fake, MESSAGEBOT_RATE_LIMIT="2/minute", MESSAGEBOT_API_KEYS="a,b")
    async with running(env) as server:

        async def post(key: str) -> int:
            response = await client.post(
                f"{server.url}/streaming/", json=FIELDS, headers={"X-API-Key": key}
            )
            return response.status_code

        assert [await post("a") for _ in range(3)] == [200, 200, 429]
        assert [await post("b") for _ in range(3)] == [200, 200, 429]


async def test_forwarded_for_only_with_trust_proxy(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    async def statuses(env: dict[str, str]) -> list[int]:
        async with running(env) as server:
            out = []
            for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.1"):
                # A client may forge the first entry; the proxy appends the real one.
                headers = {"X-Forwarded-For": f"6.6.6.6, {ip}"}
                response = await client.post(
                    f"{server.url}/v1/messages", json=FIELDS, headers=headers
                )
                out.append(response.status_code)
            return out

    base = openai_env(fake, MESSAGEBOT_RATE_LIMIT="1/minute")
    assert await statuses({**base, "MESSAGEBOT_TRUST_PROXY": "1"}) == [200, 200, 429]
    assert await statuses(base) == [200, 429, 429]
