"""The cost of a fallback: extra first-token time when the primary is down, breaker open and closed.

    python bench/fallback.py                  # ~30 s
    python bench/fallback.py --rounds 100 --attempt-timeout 1

One fake upstream (messagebot/fake_upstream.py, `--delay` before each piece, so a first token
at `--delay`) serves as the healthy upstream. MessageBot is served in this process (Hypercorn
on loopback, as the tests do), once per setup, and asked for short streams one at a time; the
time to the first `delta` is measured at the client. Setups, all in the same run:

- `no fallback`: the fake as the only upstream (the baseline of the ratios);
- `refused, closed`: a primary where nothing listens, the fake as fallback 1, the breaker never
  opening (MESSAGEBOT_BREAKER_FAILURES=100): every request is refused first, then falls back;
- `refused, open`: the same with the default breaker: after 3 failures the primary is skipped;
- `silent, closed` and `silent, open`: a primary that accepts and never answers, so a request
  that asks it pays MESSAGEBOT_ATTEMPT_TIMEOUT_S (`--attempt-timeout`);
- `no fallback, again`: the baseline once more, last, to show the run's drift (the ratios
  are against the first).

The first 3 requests of each setup are not counted (they open the breaker where it opens, and
warm the connections). MESSAGEBOT_UPSTREAM_RETRIES is 0 unless `--retries` says otherwise (one
retry of a refused connection costs 0.25 s of back-off on its own).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import socket
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from hypercorn.asyncio import serve
from hypercorn.config import Config

from messagebot import create_app
from messagebot.config import Settings
from messagebot.fake_upstream import FakeUpstream

BODY = {"name": "Minji", "relation": "wife", "reason": "birthday", "max_length": 120}
WARM = 3  # requests not counted: the breaker's default count


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def silent_upstream() -> AsyncIterator[str]:
    """A server that accepts connections and never answers; its base URL."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/v1"
    finally:
        for writer in held:
            writer.close()
        server.close()


@asynccontextmanager
async def messagebot(env: dict[str, str]) -> AsyncIterator[str]:
    app = create_app(Settings.from_env(env))
    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(trust_env=False) as client:
        end = time.monotonic() + 30
        while True:
            try:
                if (await client.get(f"{url}/healthz")).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > end:
                    raise
            await asyncio.sleep(0.02)
    try:
        yield url
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def first_token(client: httpx.AsyncClient, url: str) -> tuple[float, str]:
    """Seconds to the first delta, and the model `start` named."""
    began = time.perf_counter()
    model = ""
    async with client.stream("POST", f"{url}/v1/messages/stream", json=BODY) as response:
        assert response.status_code == 200, await response.aread()
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "start":
                model = json.loads(line[6:])["model"]
            elif line.startswith("data: ") and event == "delta":
                return time.perf_counter() - began, model
    raise AssertionError("a stream without a delta")


async def measure(env: dict[str, str], rounds: int) -> tuple[list[float], set[str]]:
    times, models = [], set()
    async with messagebot(env) as url, httpx.AsyncClient(trust_env=False, timeout=60) as client:
        for index in range(WARM + rounds):
            seconds, model = await first_token(client, url)
            if index >= WARM:
                times.append(seconds)
                models.add(model)
    return times, models


async def main(args: argparse.Namespace) -> None:
    logging.disable(logging.WARNING)  # a warning per failed attempt: hundreds of lines
    fake = FakeUpstream(chunks=8, delay=args.delay)
    await fake.start()
    try:
        async with silent_upstream() as silent:
            base = {
                "MESSAGEBOT_MODEL": "primary",
                "OPENAI_API_KEY": "sk-bench",
                "MESSAGEBOT_UPSTREAM_RETRIES": str(args.retries),
                "MESSAGEBOT_ATTEMPT_TIMEOUT_S": str(args.attempt_timeout),
                "MESSAGEBOT_FALLBACK_1_BASE_URL": fake.base_url,
                "MESSAGEBOT_FALLBACK_1_MODEL": "fallback",
            }
            refused = f"http://127.0.0.1:{free_port()}/v1"
            closed = {"MESSAGEBOT_BREAKER_FAILURES": "100"}
            setups = {
                "no fallback": (
                    {"OPENAI_BASE_URL": fake.base_url, "MESSAGEBOT_MODEL": "primary"},
                    args.rounds,
                ),
                "refused, closed": ({**base, "OPENAI_BASE_URL": refused, **closed}, args.rounds),
                "refused, open": ({**base, "OPENAI_BASE_URL": refused}, args.rounds),
                "silent, closed": (
                    {**base, "OPENAI_BASE_URL": silent, **closed},
                    args.silent_rounds,
                ),
                "silent, open": ({**base, "OPENAI_BASE_URL": silent}, args.rounds),
                "no fallback, again": (
                    {"OPENAI_BASE_URL": fake.base_url, "MESSAGEBOT_MODEL": "primary"},
                    args.rounds,
                ),
            }
            results = {}
            for name, (env, rounds) in setups.items():
                results[name] = await measure(env, rounds)
    finally:
        await fake.stop()
    baseline = statistics.median(results["no fallback"][0])
    print(
        f"first token, median of sequential streams (fake upstream: {args.delay * 1000:.0f} ms "
        f"to its first token; attempt timeout {args.attempt_timeout} s; retries {args.retries})"
    )
    print(
        f"{'setup':<20}{'n':>5}{'median ms':>11}{'p90 ms':>9}{'extra ms':>10}{'ratio':>8}"
        "  written by"
    )
    for name, (times, models) in results.items():
        median = statistics.median(times)
        p90 = statistics.quantiles(times, n=10)[-1] if len(times) >= 2 else median
        print(
            f"{name:<20}{len(times):>5}{median * 1000:>11.1f}{p90 * 1000:>9.1f}"
            f"{(median - baseline) * 1000:>10.1f}{median / baseline:>8.2f}"
            f"  {','.join(sorted(models))}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=60, help="counted requests per setup")
    parser.add_argument(
        "--silent-rounds", type=int, default=10, help="for `silent, closed`: each pays the timeout"
    )
    parser.add_argument("--attempt-timeout", type=float, default=0.5)
    parser.add_argument("--delay", type=float, default=0.02, help="the fake's time per piece")
    parser.add_argument("--retries", type=int, default=0)
    asyncio.run(main(parser.parse_args()))
