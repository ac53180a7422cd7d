"""n = 3 against n = 1 through the fake upstream (issue 25): wall time per request and the
service's CPU per request, in one run, side by side.

    python bench/choices.py [--rounds 12] [--chunks 40] [--delay 0.02] [--honour]

Starts the fake upstream and `messagebot serve` as processes of their own. The fake writes one
choice per request whatever `n` says, as llama.cpp's server and Ollama do (the service learns it
on the warm-up request and asks for each message on its own from then on); with `--honour` it
writes all `n` choices in one reply, interleaved, as OpenAI does. It then streams `--rounds`
requests of each kind, alternating, one at a time. Wall time is the client's, from the POST to
the stream's end; CPU is the service process's user + system time (/proc, Linux) over each
kind's requests. Goal: n = 3's wall time about n = 1's, its CPU at most 3×.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def process(argv: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    child = subprocess.Popen(argv, env={**os.environ, **env}, stdout=subprocess.DEVNULL)
    try:
        yield child
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


async def wait_up(url: str) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        end = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(url)).status_code < 500:
                    return
            if time.monotonic() > end:
                raise SystemExit(f"{url} did not come up")
            await asyncio.sleep(0.1)


async def one(client: httpx.AsyncClient, url: str, n: int, honour: bool) -> float:
    reason = "birthday [[fake n=honour]]" if honour else "birthday"
    body = {"relation": "wife", "reason": reason, "max_length": 1000, "n": n}
    started = time.perf_counter()
    dones = 0
    async with client.stream("POST", url, json=body) as response:
        assert response.status_code == 200, response.status_code
        async for line in response.aiter_lines():
            dones += line == "event: done"
    assert dones == n, (n, dones)
    return time.perf_counter() - started


async def run(args: argparse.Namespace) -> None:
    fake_port, bot_port = free_port(), free_port()
    fake_argv = [sys.executable, "-m", "messagebot.fake_upstream", "--port", str(fake_port)]
    fake_argv += ["--chunks", str(args.chunks), "--delay", str(args.delay)]
    bot_env = {
        "OPENAI_BASE_URL": f"http://127.0.0.1:{fake_port}/v1",
        "OPENAI_API_KEY": "sk-bench",
        "MESSAGEBOT_RATE_LIMIT": "",
    }
    bot_argv = [sys.executable, "-m", "messagebot.cli", "serve", "--port", str(bot_port)]
    with process(fake_argv, {}), process(bot_argv, bot_env) as bot:
        base = f"http://127.0.0.1:{bot_port}"
        await wait_up(f"http://127.0.0.1:{fake_port}/v1/models")
        await wait_up(f"{base}/healthz")
        url = f"{base}/v1/messages/stream"
        walls: dict[int, list[float]] = {1: [], 3: []}
        cpus: dict[int, float] = {1: 0.0, 3: 0.0}
        async with httpx.AsyncClient(timeout=60, trust_env=False) as client:
            for n in (1, 3):  # warm up: connections, imports, first prompt
                await one(client, url, n, args.honour)
            for _ in range(args.rounds):
                for n in (1, 3):
                    cpu = cpu_seconds(bot.pid)
                    walls[n].append(await one(client, url, n, args.honour))
                    cpus[n] += cpu_seconds(bot.pid) - cpu
    wall1, wall3 = statistics.median(walls[1]), statistics.median(walls[3])
    cpu1, cpu3 = cpus[1] / args.rounds, cpus[3] / args.rounds
    mode = "one reply with n choices" if args.honour else "one request per message"
    print(f"{args.rounds} rounds, {args.chunks} chunks × {args.delay} s per message, {mode}")
    print(
        f"wall per request, median: n=1 {wall1 * 1000:.0f} ms, n=3 {wall3 * 1000:.0f} ms, "
        f"ratio {wall3 / wall1:.2f} (goal ≈ 1)"
    )
    print(
        f"service CPU per request:  n=1 {cpu1 * 1000:.1f} ms, n=3 {cpu3 * 1000:.1f} ms, "
        f"ratio {cpu3 / cpu1:.2f} (goal ≤ 3)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--chunks", type=int, default=40, help="pieces per message")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds before each piece")
    parser.add_argument(
        "--honour", action="store_true", help="the fake honours n (one reply, as OpenAI)"
    )
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
