"""Redis connections are bounded (issue 15, item 7): a burst of 200 streams against two
Hypercorn workers with a limit on opens at most MAX_CONNECTIONS per worker (one pool for the
limit and the counters, issue 24) on a real redis-server, during the burst and after it."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from redis import asyncio as aioredis

from messagebot.fake_upstream import FakeUpstream
from messagebot.redis_connection import MAX_CONNECTIONS

from .helpers import (
    hypercorn,
    openai_env,
    sockets_by_process,
    status_counts,
)
from .redis_server import RedisServer

STREAMS = 200
WORKERS = 2
# The one pool of each worker, the rate limit's and the counters'.
PER_WORKER = MAX_CONNECTIONS
BODY = b'{"relation": "wife", "reason": "birthday [[fake chunks=10 delay=0.05]]"}'


def client_ports(clients: list[dict[str, str]]) -> list[int]:
    """The client-side ports of the connections Redis lists (CLIENT LIST)."""
    return sorted(int(client["addr"].rsplit(":", 1)[1]) for client in clients)


async def stream_burst(port: int) -> Counter[int]:
    """STREAMS streams at once over raw sockets; their statuses once every one has ended."""
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(STREAMS)]
    request = (
        "POST /v1/messages/stream HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\nConnection: close\r\n\r\n"
    ).encode() + BODY
    try:
        for _, writer in connections:
            writer.write(request)
        await asyncio.gather(*(writer.drain() for _, writer in connections))
        answers = await asyncio.gather(*(reader.read() for reader, _ in connections))
    finally:
        for _, writer in connections:
            writer.close()
    for answer in answers:
        if answer.startswith(b"HTTP/1.1 200"):
            assert b"event: done" in answer, answer[-300:]
    return status_counts(answers)


async def test_a_200_stream_burst_keeps_redis_connections_bounded(
    fake: FakeUpstream, redis_server: RedisServer, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    # Every stream passes the limit's check (one budget for the test's address), and is
    # counted at its end: both pools are busy.
    env = openai_env(fake, REDIS_URL=redis_server.url, MESSAGEBOT_RATE_LIMIT="150/hour")
    watcher = aioredis.Redis(port=redis_server.port)  # the test's own connection: one
    try:
        async with hypercorn(env, WORKERS, log) as (port, pids):
            peak = 0
            per_worker_peak: Counter[int] = Counter()
            # The first time a worker is over its bound: its sockets to Redis from the very
            # read that counted them, and the ports of the clients Redis listed right after.
            over: dict[int, list[tuple[int, int]]] = {}
            listed_then: list[int] = []
            burst = asyncio.create_task(stream_burst(port))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 60  # the burst takes a few seconds; never wait forever
            try:
                while not burst.done() and loop.time() < deadline:
                    clients = (await watcher.info("clients"))["connected_clients"]
                    peak = max(peak, clients)
                    to_redis = sockets_by_process(redis_server.port, pids, remote=True)
                    for pid, sockets in to_redis.items():
                        per_worker_peak[pid] = max(per_worker_peak[pid], len(sockets))
                    if not over and any(len(s) > PER_WORKER for s in to_redis.values()):
                        over = to_redis
                        listed_then = client_ports(await watcher.client_list())
                    await asyncio.sleep(0.01)
                statuses = await asyncio.wait_for(burst, max(0.1, deadline - loop.time()))
            finally:
                burst.cancel()
            print(f"statuses {dict(statuses)}, peak clients {peak}, per worker {per_worker_peak}")
            # Every stream answered, the limit checked (a call that timed out on a very busy
            # machine would let its request through unchecked: the limit is not this test's).
            assert set(statuses) <= {200, 429} and statuses[429] > 0, statuses
            assert statuses[200] >= 150, (statuses, log.read_text()[-2000:])
            assert 0 < peak <= WORKERS * PER_WORKER + 1, peak  # + the test's own
            ports = {"redis": redis_server.port, "fake": fake.port, "service": port}
            assert all(held <= PER_WORKER for held in per_worker_peak.values()), (
                f"{per_worker_peak}, ports {ports}; the workers' sockets to Redis then "
                f"(local, peer) {over}; the ports of Redis' clients then {listed_then}, "
                f"now {client_ports(await watcher.client_list())}; the server's log "
                f"{log.read_text()[-2000:]}"
            )
            # And afterwards, as Redis itself lists them.
            listed = await watcher.client_list()
            assert 1 < len(listed) <= WORKERS * PER_WORKER + 1, listed
            after = sockets_by_process(redis_server.port, pids, remote=True)
            assert all(len(sockets) <= PER_WORKER for sockets in after.values()), after
    finally:
        await watcher.aclose()
