"""Small honest tools for the tests: a real Hypercorn on loopback, and an SSE reader."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import re
import socket
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart

from messagebot import create_app
from messagebot.config import Settings
from messagebot.fake_upstream import FakeUpstream


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    app: Quart
    url: str


@contextlib.asynccontextmanager
async def running(
    env: Mapping[str, str], configure: Callable[[Quart], None] | None = None
) -> AsyncIterator[Server]:
    """The whole app, configured from `env` (and by `configure`, say to add a route), in a real
    Hypercorn on a loopback port."""
    app = create_app(Settings.from_env(env))
    if configure is not None:
        configure(app)
    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    config.errorlog = None
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]
    url = f"http://127.0.0.1:{port}"

    async def healthy() -> bool:
        if task.done():  # it failed to start: say why rather than wait for nothing
            task.result()
            raise RuntimeError("the server stopped before it came up")
        with contextlib.suppress(httpx.TransportError):
            return (await client.get(f"{url}/healthz")).status_code == 200
        return False

    async with httpx.AsyncClient(trust_env=False) as client:  # loopback: no proxy settings
        # A deadline, not a number of tries: loading the local model on a busy machine is slow.
        await wait_until(healthy, within=60, every=0.02, what="the server to come up")
    try:
        yield Server(app, url)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


@dataclass
class SSE:
    """One event as a client sees it; `comment` for lines like `: ping`."""

    event: str | None
    data: Any = None
    comment: str | None = None
    at: float = 0.0


@dataclass
class StreamResult:
    status: int
    headers: httpx.Headers
    events: list[SSE] = field(default_factory=list)
    body: Any = None

    def named(self, name: str) -> list[SSE]:
        return [e for e in self.events if e.event == name]

    @property
    def sequence(self) -> list[str]:
        return [e.event or f":{e.comment}" for e in self.events]

    @property
    def text(self) -> str:
        return "".join(e.data["text"] for e in self.named("delta"))


async def parse_sse(lines: AsyncIterator[str]) -> AsyncIterator[SSE]:
    """Parse Server-Sent Events line by line, strictly: every data line must be JSON."""
    loop = asyncio.get_running_loop()
    event: str | None = None
    data: list[str] = []
    async for line in lines:
        if line == "":
            if event is not None or data:
                yield SSE(event, json.loads("\n".join(data)), at=loop.time())
            event, data = None, []
        elif line.startswith(":"):
            yield SSE(None, comment=line[1:].strip(), at=loop.time())
        elif line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: "):
            data.append(line[len("data: ") :])
        else:
            raise AssertionError(f"not an SSE line: {line!r}")


async def stream(
    client: httpx.AsyncClient,
    url: str,
    body: Any,
    *,
    started: asyncio.Event | None = None,
    **kwargs: Any,
) -> StreamResult:
    """POST and read the whole answer: SSE events for a 200 stream, JSON otherwise.

    `started` is set once the answer has begun (the first event, or the error's status), for
    a test that must act while the stream is open."""
    try:
        async with client.stream("POST", url, json=body, **kwargs) as response:
            result = StreamResult(response.status_code, response.headers)
            if response.headers.get("content-type", "").startswith("text/event-stream"):
                async for item in parse_sse(response.aiter_lines()):
                    result.events.append(item)
                    if started is not None:
                        started.set()
            else:
                if started is not None:
                    started.set()
                raw = await response.aread()
                result.body = json.loads(raw) if raw else None
    finally:
        if started is not None:
            started.set()  # never leave a waiter hanging on a request that failed
    return result


async def fake_log(client: httpx.AsyncClient, fake_url: str, tag: str) -> list[dict[str, Any]]:
    # The fake picks the tag's records: the whole log (the session's fake is shared) grows to
    # megabytes, and sending and parsing it stalled the one event loop of the test, the fake
    # and the service for up to a second per poll.
    response = await client.get(fake_url.removesuffix("/v1") + "/_fake/log", params={"tag": tag})
    records: list[dict[str, Any]] = response.json()
    return records


async def wait_until(
    check: Callable[[], Any], within: float = 10, every: float = 0.01, what: str = ""
) -> Any:
    """Call `check` (a function, or a coroutine function) until it returns something true, and
    return that; fail once `within` seconds have passed, showing the last thing it returned.

    What another thread, task or process updates (a counter, a queue, the fake upstream's
    record of a request, a log, a metric) may change a moment after the response that caused
    it: a test waits for it with a deadline, never assumes it is already done, and never
    sleeps a fixed time in the hope that it is."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() >= end:
            name = what or getattr(check, "__name__", "the condition")
            raise AssertionError(f"waited {within} s for {name}; last: {value!r}")
        await asyncio.sleep(every)


async def wait_for_record(
    client: httpx.AsyncClient, fake: Any, tag: str, outcome: str, within: float = 5
) -> dict[str, Any]:
    """The fake upstream's record of the request tagged `tag`, once its outcome is `outcome`
    (the fake writes it as the connection ends, which may be after our response ended)."""
    records: list[dict[str, Any]] = []

    async def seen() -> dict[str, Any] | None:
        nonlocal records
        records = await fake_log(client, fake.base_url, tag)
        return records[-1] if records and records[-1]["outcome"] == outcome else None

    try:
        return await wait_until(seen, within)  # type: ignore[no-any-return]
    except AssertionError:
        raise AssertionError(f"{tag}: upstream never saw {outcome}: {records}") from None


async def wait_until_up(client: httpx.AsyncClient, url: str, within: float = 20) -> httpx.Response:
    """Poll GET {url}/healthz until a server started in another process answers."""
    loop = asyncio.get_running_loop()
    end = loop.time() + within
    while True:
        try:
            return await client.get(f"{url}/healthz")
        except httpx.TransportError:
            if loop.time() > end:
                raise
            await asyncio.sleep(0.1)


async def worker_pids(pid: int) -> list[int]:
    """The worker processes Hypercorn (process `pid`) has spawned so far."""
    ps = await asyncio.create_subprocess_exec(
        "ps", "--ppid", str(pid), "-o", "pid=,args=", stdout=asyncio.subprocess.PIPE
    )
    listing, _ = await ps.communicate()
    # Hypercorn's workers, besides multiprocessing's resource tracker.
    return [
        int(line.split()[0])
        for line in listing.decode().splitlines()
        if "multiprocessing.spawn" in line
    ]


def openai_env(fake: FakeUpstream, **extra: str) -> dict[str, str]:
    """The environment of a MessageBot that talks to `fake`."""
    return {
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "sk-test",
        "MESSAGEBOT_MODEL": "fake-model",
        **extra,
    }


def tcp_sockets_by_process(pids: list[int]) -> dict[int, list[tuple[int, int]]]:
    """The established TCP (IPv4) connections each of `pids` holds, as (local port, peer
    port), from its sockets in /proc.

    /proc/net/tcp is read a page at a time, and while connections open and close elsewhere
    the kernel's resumption can list a socket again (seen here under a benchmark's load: one
    socket up to 15 times in one read), so a socket counts once, by its inode. A read can
    also pass a socket over: a count may be low, never high."""
    inodes: dict[str, int] = {}
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    target = os.readlink(fd)
                    if target.startswith("socket:["):
                        inodes[target[8:-1]] = pid
    listed: dict[str, tuple[int, int]] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and fields[9] in inodes:  # 01: ESTABLISHED
            local, peer = (int(fields[i].rsplit(":", 1)[1], 16) for i in (1, 2))
            listed[fields[9]] = (local, peer)
    held: dict[int, list[tuple[int, int]]] = {}
    for inode, ends in listed.items():
        held.setdefault(inodes[inode], []).append(ends)
    return held


def sockets_by_process(
    port: int, pids: list[int], *, remote: bool
) -> dict[int, list[tuple[int, int]]]:
    """The established TCP connections each of `pids` holds whose local port (or, with
    `remote`, the peer's port) is `port`, as (local port, peer port)."""
    side = 1 if remote else 0
    return {
        pid: sorted(ends for ends in sockets if ends[side] == port)
        for pid, sockets in tcp_sockets_by_process(pids).items()
    }


def connections_by_process(port: int, pids: list[int], *, remote: bool) -> Counter[int]:
    """How many of those connections each of `pids` holds (sockets_by_process)."""
    return Counter(
        {
            pid: len(sockets)
            for pid, sockets in sockets_by_process(port, pids, remote=remote).items()
            if sockets
        }
    )


@contextlib.asynccontextmanager
async def hypercorn(
    env: Mapping[str, str], workers: int, log_path: Path
) -> AsyncIterator[tuple[int, list[int]]]:
    """`hypercorn --workers N` as the Procfile runs it, in a process of its own (so with its
    own metrics, none of other tests'); yields its port once every worker serves, and the
    workers' pids. Its log goes to `log_path`, for a failing test to show."""
    port = free_port()
    log = log_path.open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hypercorn",
        "--workers",
        str(workers),
        "--worker-class",
        "uvloop",
        "--bind",
        f"127.0.0.1:{port}",
        "messagebot:create_app()",
        env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=log,
    )
    log.close()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            await wait_until_up(client, f"http://127.0.0.1:{port}")

        async def all_workers() -> list[int] | None:
            pids = await worker_pids(process.pid)
            return pids if len(pids) == workers else None

        pids = await wait_until(all_workers, within=20, every=0.1, what=f"{workers} workers")
        seen: set[int] = set()

        async def every_worker_serving() -> bool:
            # A worker accepts connections once it has started: open one, see who holds it.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                await writer.drain()
                await reader.readuntil(b"\r\n\r\n")  # answered: accepted
                seen.update(connections_by_process(port, pids, remote=False))
            finally:
                writer.close()
            return len(seen) == workers

        await wait_until(every_worker_serving, within=30, every=0.01, what="every worker serving")
        yield port, pids
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)


def status_counts(answers: list[bytes]) -> Counter[int]:
    """How many raw HTTP/1.1 answers have each status; 0 counts those with no answer at all."""
    statuses: Counter[int] = Counter()
    for answer in answers:
        match = re.match(rb"HTTP/1\.1 (\d{3}) ", answer)
        statuses[int(match.group(1)) if match else 0] += 1
    return statuses


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    """The response is our JSON error with this status and code, and a message; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error  # type: ignore[no-any-return]
