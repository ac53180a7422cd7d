"""Where MessageBot's first-token time goes: timestamps along sequential requests.

    python bench/first_token.py              # 300 requests, ~15 s
    python bench/first_token.py --rounds 1000

It serves the app in this process (Hypercorn on uvloop, as `messagebot serve` does) against the
fake upstream, sends short streams one at a time from bench/loadgen.py, and prints the client's
added time to the first token next to the median time between points along each request: bytes
in at Hypercorn, the app called, our route, the generation begun, the upstream request handed
to aiohttp and written, and on the way back the first text chunk read, its delta handed to the
server and written to the client.

The points are wrappers around library functions (Hypercorn, Quart, aiohttp), installed here by
assignment: they add a few microseconds each, and this script breaks, loudly, when those
libraries rename what it wraps. It is a measuring tool, not part of the service.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from typing import Any

import servers as bench  # bench/ is this script's directory, so on sys.path

now = time.perf_counter
_current: dict[str, float] | None = None
_requests: list[dict[str, float]] = []


def _mark(name: str) -> None:
    if _current is not None and name not in _current:
        _current[name] = now()


def _wrap(owner: Any, attr: str, name: str) -> None:
    """Mark `name` when the coroutine function `owner.attr` is first called in the current
    request."""
    original = getattr(owner, attr)
    assert asyncio.iscoroutinefunction(original), f"{owner.__name__}.{attr} is not async"

    @functools.wraps(original)
    async def marked(*args: Any, **kwargs: Any) -> Any:
        _mark(name)
        return await original(*args, **kwargs)

    setattr(owner, attr, marked)


def _instrument() -> None:
    import aiohttp.client_proto
    import aiohttp.client_reqrep
    import quart
    from hypercorn.asyncio import tcp_server
    from hypercorn.protocol import h11, http_stream

    from messagebot.providers import transport
    from messagebot.web import api, request_log

    handle = h11.H11Protocol.handle

    async def bytes_in(self: Any, event: Any) -> None:
        global _current
        data = getattr(event, "data", b"")
        if isinstance(data, bytes) and data.startswith(b"POST /v1/messages/stream"):
            _current = {"bytes in": now()}
            _requests.append(_current)
        await handle(self, event)

    h11.H11Protocol.handle = bytes_in  # type: ignore[method-assign]

    protocol_send = tcp_server.TCPServer.protocol_send

    async def bytes_out(self: Any, event: Any) -> None:
        data = getattr(event, "data", b"")
        if isinstance(data, bytes) and b"event: delta" in data:
            _mark("delta written")
        await protocol_send(self, event)

    tcp_server.TCPServer.protocol_send = bytes_out  # type: ignore[method-assign]

    app_send = http_stream.HTTPStream.app_send

    async def to_server(self: Any, message: Any) -> None:
        if message and b"event: delta" in message.get("body", b""):
            _mark("delta to Hypercorn")
        await app_send(self, message)

    http_stream.HTTPStream.app_send = to_server  # type: ignore[method-assign]

    _wrap(request_log.RequestLog, "__call__", "app called")
    _wrap(quart.Quart, "dispatch_request", "route")
    _wrap(api, "begin", "generation begun")
    _wrap(transport.Upstream, "post", "to aiohttp")
    send = aiohttp.client_reqrep.ClientRequest.send

    async def written(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = await send(self, *args, **kwargs)
        _mark("upstream request written")
        return result

    aiohttp.client_reqrep.ClientRequest.send = written  # type: ignore[method-assign]

    received = aiohttp.client_proto.ResponseHandler.data_received

    def chunk_in(self: Any, data: bytes) -> None:
        packed = data.replace(b" ", b"")
        if b'"content":"' in packed and b'"content":""' not in packed:
            _mark("text chunk read")
        received(self, data)

    aiohttp.client_proto.ResponseHandler.data_received = chunk_in  # type: ignore[method-assign]


_PATH = [
    ("bytes in", "app called", "Hypercorn: parse, scope, app task"),
    ("app called", "route", "request log, Quart: request, context, hooks"),
    ("route", "generation begun", "our route: body, fields, language"),
    ("generation begun", "to aiohttp", "prompt, request body"),
    ("to aiohttp", "upstream request written", "aiohttp: request out"),
    ("text chunk read", "delta to Hypercorn", "first text chunk read -> its delta to the server"),
    ("delta to Hypercorn", "delta written", "Hypercorn: delta written"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    out = bench.HERE / "out"
    out.mkdir(exist_ok=True)
    fake_port = bench.free_port()
    fake = bench.Server(
        "fake",
        [
            *(bench.PY, "-m", "messagebot.fake_upstream", "--port", str(fake_port)),
            *("--chunks", str(bench.CHUNKS), "--delay", str(bench.DELAY)),
        ],
        bench.clean_env(),
        out / "first-token-fake.log",
        f"http://127.0.0.1:{fake_port}",
    )
    try:
        fake.wait_ready("/v1/models")
        os.environ.update(
            OPENAI_BASE_URL=f"http://127.0.0.1:{fake_port}/v1",
            OPENAI_API_KEY="x",
            MESSAGEBOT_PROVIDER="openai",
        )
        result = _measure(fake_port, args.rounds)
    finally:
        fake.stop()
    direct, relayed = result["direct"]["ms"]["p50"], result["messagebot"]["ms"]["p50"]
    print(
        f"time to first token p50: direct {direct:.2f} ms, through MessageBot {relayed:.2f} ms, "
        f"added {relayed - direct:.2f} ms"
    )
    done = [r for r in _requests[20:] if "delta written" in r]
    print(f"inside MessageBot, median of {len(done)} requests:")
    total = 0.0
    for start, end, what in _PATH:
        ms = statistics.median(r[end] - r[start] for r in done) * 1000
        total += ms
        print(f"  {ms:6.3f} ms  {what}")
    print(f"  {total:6.3f} ms  in all (the rest is loopback hops and the load client)")
    return 0


def _measure(fake_port: int, rounds: int) -> dict[str, Any]:
    import uvloop
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    _instrument()
    from messagebot import create_app

    app = create_app()
    # The request log's line per request is part of the cost; it goes to a file, not here.
    access = logging.getLogger("messagebot.access")
    access.handlers = [logging.FileHandler(bench.HERE / "out" / "first-token-access.log")]
    config = Config()
    port = bench.free_port()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    short = "[[fake chunks=2]]"
    every = bench.targets_at({"fake": fake_port, "baseline": 0, "messagebot": port})
    targets = {
        name: dict(every[name], body=bench.short_body(every[name]["body"], short))
        for name in ("direct", "messagebot")
    }

    async def run() -> dict[str, Any]:
        stop = asyncio.Event()
        server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
        await asyncio.sleep(1.0)
        job = {"kind": "ttft", "targets": targets, "rounds": rounds, "warmup": 20}
        proc = await asyncio.create_subprocess_exec(
            bench.PY,
            str(bench.HERE / "loadgen.py"),
            json.dumps(job),
            stdout=subprocess.PIPE,
        )
        stdout, _ = await proc.communicate()
        stop.set()
        await server
        return json.loads(stdout.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]

    return uvloop.run(run())


if __name__ == "__main__":
    sys.exit(main())
