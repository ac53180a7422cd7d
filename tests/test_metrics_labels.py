"""/metrics stays small whatever clients send: every label value comes from a closed set."""

from __future__ import annotations

import asyncio
import random
import re
import string
from pathlib import Path

import httpx

from messagebot import create_app, errors, metrics
from messagebot.config import Settings, key_fingerprint
from messagebot.fake_upstream import FakeUpstream

from .helpers import hypercorn, openai_env, status_counts, wait_until

BODY = {"relation": "wife", "reason": "birthday"}
SERIES = re.compile(r"^(messagebot_\w+?)(?:_total|_count|_sum|_bucket)?\{([^}]*)\} ", re.M)
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


async def raw_request(port: int, head: str) -> bytes:
    """One request over a socket of its own: clients refuse made-up methods, this does not."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode("latin-1"))
        await writer.drain()
        return await asyncio.wait_for(reader.read(), 10)  # to EOF: Connection: close
    finally:
        writer.close()


def labels(text: str) -> list[tuple[str, dict[str, str]]]:
    return [(name, dict(LABEL.findall(found))) for name, found in SERIES.findall(text)]


def requests_counted(text: str) -> float:
    """Requests counted, but for the test's own polling (GET /healthz, GET /metrics)."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("messagebot_requests_total{")
        and 'method="GET",route="/metrics"' not in line
        and 'method="GET",route="/healthz"' not in line
    )


async def test_made_up_methods_and_paths_do_not_grow_metrics(
    fake: FakeUpstream, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    rng = random.Random(15)
    async with hypercorn(openai_env(fake), 1, tmp_path / "server.log") as (port, _):
        url = f"http://127.0.0.1:{port}"
        counted = 0

        async def scrape_once_counted() -> str:
            async def all_counted() -> str | None:
                # A request is counted once its last byte is sent: a moment after the client
                # has it.
                text = (await client.get(f"{url}/metrics")).text
                return text if requests_counted(text) == counted else None

            text: str = await wait_until(all_counted, within=10, every=0.05, what="the count")
            return text

        # Every route and a few real answers first, so that what follows can only add junk.
        for path in ("/v1/stats", "/openapi.json", "/", "/nope", "/static/x.css"):
            await client.get(f"{url}{path}")
        await client.post(f"{url}/v1/messages", json=BODY)
        await client.post(f"{url}/v1/messages", json={})
        await client.put(f"{url}/v1/messages", json=BODY)
        counted = 8
        before = await scrape_once_counted()

        def junk(length: int) -> str:
            return "".join(rng.choices(string.ascii_uppercase + string.digits, k=length))

        gate = asyncio.Semaphore(20)

        async def send(head: str) -> bytes:
            async with gate:
                return await raw_request(port, head)

        async def junk_round(count: int) -> str:
            nonlocal counted
            heads = []
            for i in range(count):
                method = junk(rng.randint(3, 40)) if i % 3 else rng.choice(["PUT", "DELETE"])
                path = rng.choice(["/healthz", "/v1/stats", "/metrics", f"/{junk(9)}/{junk(30)}"])
                heads.append(f"{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answers = await asyncio.gather(*(send(head) for head in heads))
            assert all(answer.startswith(b"HTTP/1.1 ") for answer in answers)
            counted += count
            return await scrape_once_counted()

        first = await junk_round(300)
        second = await junk_round(300)
    sizes = [len(text.encode()) for text in (before, first, second)]
    print(f"/metrics: {sizes[0]} bytes; after 300 junk requests {sizes[1]}; 300 more {sizes[2]}")
    # The first junk may find combinations not seen yet (method `other` on /healthz, 405),
    # once; after that, junk adds no series at all, only bigger counts.
    assert sizes[1] - sizes[0] < 4096, sizes
    assert series_of(second) == series_of(first)
    assert sizes[2] - sizes[1] < 256, sizes
    requests = [found for name, found in labels(second) if name == "messagebot_requests"]
    assert len(requests) <= 40, len(requests)
    app = create_app(Settings.from_env(openai_env(fake)))
    assert_closed(second, {rule.rule for rule in app.url_map.iter_rules()})


def series_of(text: str) -> set[str]:
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if not line.startswith("#")}


def assert_closed(text: str, routes: set[str], keys: frozenset[str] = frozenset()) -> None:
    """Every label value in a scrape is one the metrics module declares; a key name is one
    of `keys` (the configured names), `page` or `anonymous`."""
    allowed = {
        "key": keys | {"page", "anonymous"},
        "kind": metrics.TOKEN_KINDS,
        "method": metrics.METHODS | {"other"},
        "route": routes | {"unmatched"},
        "status": {str(status) for status in metrics.STATUSES}
        | {"1xx", "2xx", "3xx", "4xx", "5xx", "other"},
        "provider": metrics.PROVIDERS | {"other"},
        "outcome": metrics.OUTCOMES | {"other"},
        "code": metrics.CODES | {"other"},
        "le": None,  # a histogram's buckets: fixed in code
    }
    for name, found in labels(text):
        for label, value in found.items():
            assert label in allowed, (name, label)
            if allowed[label] is not None:
                assert value in allowed[label], (name, label, value)


def test_every_error_code_has_its_own_label_value() -> None:
    """A code the service can answer with is counted under its name, not as `other`."""
    assert {code.value for code in errors.ErrorCode} <= metrics.CODES
    assert {"stop", "length", "cancelled"} <= metrics.OUTCOMES
    assert metrics.CODES <= metrics.OUTCOMES


async def test_random_keys_add_no_key_label(
    fake: FakeUpstream, client: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Issue 27: the `key` label takes a configured name at most. 1000 requests with made-up
    keys (each a 401) add no series; the valid keys' messages are counted under their names."""
    rng = random.Random(27)
    env = openai_env(fake, MESSAGEBOT_API_KEYS="ios:k-ios-1,k-bare-2")
    names = frozenset({"ios", key_fingerprint("k-bare-2")})
    body = b'{"relation": "wife", "reason": "birthday"}'

    def head(key: str) -> str:
        scheme = rng.choice(["Authorization: Bearer ", "X-API-Key: ", "Authorization: bearer "])
        return (
            f"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{scheme}{key}\r\nConnection: close\r\n\r\n"
            + body.decode()
        )

    async with hypercorn(env, 1, tmp_path / "server.log") as (port, _):
        url = f"http://127.0.0.1:{port}"
        good = [await raw_request(port, head(key)) for key in ("k-ios-1", "k-bare-2")]
        assert status_counts(good) == {200: 2}

        async def counted() -> str | None:
            text = (await client.get(f"{url}/metrics")).text
            keys = {found["key"] for name, found in labels(text) if "key" in found}
            return text if keys == names else None

        before = await wait_until(counted, within=10, every=0.05, what="the two keys' messages")
        gate = asyncio.Semaphore(20)

        async def send(key: str) -> bytes:
            async with gate:
                return await raw_request(port, head(key))

        made_up = [
            "".join(rng.choices(string.printable[:94], k=rng.randint(1, 60))) for _ in range(1000)
        ]
        answers = await asyncio.gather(*(send(key) for key in made_up))
        assert status_counts(answers) == {401: 1000}
        after = (await client.get(f"{url}/metrics")).text
    key_series = {
        line.rsplit(" ", 1)[0] for line in after.splitlines() if line.startswith("messagebot_key_")
    }
    assert key_series == {
        line.rsplit(" ", 1)[0] for line in before.splitlines() if line.startswith("messagebot_key_")
    }
    app = create_app(Settings.from_env(env))
    assert_closed(after, {rule.rule for rule in app.url_map.iter_rules()}, names)
