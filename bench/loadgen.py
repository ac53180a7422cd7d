"""The load client: raw HTTP/1.1 over asyncio protocols (uvloop when installed), loopback only.

It is run as its own process by bench/run.py, one job per process, the job given as JSON:

    python bench/loadgen.py '{"kind": "load", ...}'

and prints one JSON object with the results (plus `ready` lines for the `hold` job). It is kept
cheap so it is not the bottleneck: no HTTP library, no JSON parsing of the streams, one
incremental chunked-body decoder, and it reports its own CPU time so the caller can check.

Kinds of job:
  load   `concurrency` workers, each making `per_worker` requests one after another on a kept-alive
         connection (or a fresh one each time with `fresh`); worker starts are spread over `ramp`
         seconds. Per request: time to the first
         delta, time to the end, completeness.
  ttft   sequential: for each round, one request to each target in turn, each on its kept-alive
         connection and read to its end (or, with keepalive false, on a fresh connection opened
         before the clock starts and closed at the first delta); the clock runs from the
         request's first byte sent to the first delta's last byte received.
  hold   open `count` streams, wait until each has its first delta, print `ready`, wait for a
         line on stdin, close them all.

Target modes (what a "delta" and a "complete" reply are):
  sse     MessageBot's SSE: first `event: delta`; complete on `event: done`
  text    raw text chunks (the baseline relay): first non-empty body chunk; complete on the last
          chunk of the chunked body
  openai  the upstream's own stream: first chunk with non-empty `content`; complete on
          `data: [DONE]` and the last chunk
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")
HEAD, SIZE, DATA, TRAILER, FIXED, DONE = range(6)


def proc_cpu(pid: int) -> float:
    """utime + stime + cutime + cstime of a process, in seconds."""
    with open(f"/proc/{pid}/stat", "rb") as file:
        fields = file.read().rsplit(b")", 1)[1].split()
    # After the command name: state is fields[0], utime is the 14th field of the line (index 11).
    return sum(int(x) for x in fields[11:15]) / CLK_TCK


def proc_rss(pid: int) -> int:
    """Resident set size in bytes."""
    with open(f"/proc/{pid}/status", "rb") as file:
        for line in file:
            if line.startswith(b"VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    with open("/proc/stat", "rb") as file:
        fields = [int(x) for x in file.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(slots=True)
class Result:
    ok: bool = False
    status: int = 0
    error: str = ""
    sent: float = 0.0
    first: float = 0.0
    end: float = 0.0
    body_bytes: int = 0


@dataclass
class Target:
    host: str
    port: int
    path: str
    mode: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Target:
        body = data["body"]
        raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return cls(
            data.get("host", "127.0.0.1"),
            int(data["port"]),
            data["path"],
            data["mode"],
            raw,
            dict(data.get("headers", {})),
        )

    def request_bytes(self) -> bytes:
        lines = [
            f"POST {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(self.body)}",
        ]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


class Connection(asyncio.Protocol):
    """One HTTP/1.1 connection; one request at a time."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.buf = bytearray()
        self.phase = DONE
        self.need = 0
        self.keep = True
        self.result = Result()
        self.complete_marker = False
        self.stop_at_first = False
        self.waiter: asyncio.Future[Result] | None = None
        self.first_waiter: asyncio.Future[None] | None = None
        self.clock = time.perf_counter

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.phase != DONE:
            self._parse()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.phase != DONE:
            self._finish(error="connection closed")

    # -- requests
    def send(self, request: bytes, *, stop_at_first: bool = False) -> asyncio.Future[Result]:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self.waiter = loop.create_future()
        self.first_waiter = loop.create_future()
        self.result = Result()
        self.phase = HEAD
        self.complete_marker = False
        self.stop_at_first = stop_at_first
        self.result.sent = self.clock()
        self.transport.write(request)
        if self.buf:
            self._parse()
        return self.waiter

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()
        self.closed = True

    def _finish(self, *, error: str = "") -> None:
        result = self.result
        result.end = self.clock()
        self.phase = DONE
        if error:
            result.error = error
        elif result.error:
            pass  # an error event already said why
        elif result.status != 200:
            result.error = f"HTTP {result.status}"
        elif not self.complete_marker:
            result.error = "incomplete stream"
        elif not result.first:
            result.error = "no delta"
        else:
            result.ok = True
        if self.first_waiter is not None and not self.first_waiter.done():
            self.first_waiter.set_result(None)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(result)

    def _chunk(self, payload: bytes) -> None:
        result = self.result
        result.body_bytes += len(payload)
        mode = self.mode
        if mode == "sse":
            is_delta = b"event: delta" in payload
            if b"event: done" in payload:
                self.complete_marker = True
            elif b"event: error" in payload:
                result.error = "error event"
        elif mode == "text":
            is_delta = bool(payload)
        else:  # openai
            is_delta = b'"content": "' in payload and b'"content": ""' not in payload
            if b"data: [DONE]" in payload:
                self.complete_marker = True
        if is_delta and not result.first:
            result.first = self.clock()
            if self.first_waiter is not None and not self.first_waiter.done():
                self.first_waiter.set_result(None)
            if self.stop_at_first:
                self.complete_marker = True
                self.keep = False
                self._finish()
                self.close()

    def _parse(self) -> None:
        buf = self.buf
        while self.phase != DONE:
            if self.phase == HEAD:
                i = buf.find(b"\r\n\r\n")
                if i < 0:
                    return
                head = bytes(buf[:i]).lower()
                del buf[: i + 4]
                self.result.status = int(head[9:12])
                self.keep = b"connection: close" not in head
                if b"transfer-encoding: chunked" in head:
                    self.phase = SIZE
                else:
                    length = 0
                    for line in head.split(b"\r\n"):
                        if line.startswith(b"content-length:"):
                            length = int(line.split(b":", 1)[1])
                    self.need = length
                    self.phase = FIXED
            elif self.phase == SIZE:
                i = buf.find(b"\r\n")
                if i < 0:
                    return
                size = int(bytes(buf[:i]).split(b";", 1)[0], 16)
                del buf[: i + 2]
                if size == 0:
                    self.phase = TRAILER
                else:
                    self.need = size
                    self.phase = DATA
            elif self.phase == DATA:
                if len(buf) < self.need + 2:
                    return
                payload = bytes(buf[: self.need])
                del buf[: self.need + 2]
                self.phase = SIZE
                self._chunk(payload)
            elif self.phase == TRAILER:
                i = buf.find(b"\r\n")
                if i < 0:
                    return
                del buf[: i + 2]
                if i == 0:
                    if self.mode == "text":
                        self.complete_marker = True
                    self._finish()
            elif self.phase == FIXED:
                if len(buf) < self.need:
                    return
                self.result.body_bytes += self.need
                del buf[: self.need]
                self._finish()


async def connect(target: Target) -> Connection:
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(
        lambda: Connection(target.mode), target.host, target.port
    )
    return protocol


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p90": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]

    return {
        "p50": pick(0.50),
        "p90": pick(0.90),
        "p99": pick(0.99),
        "max": ordered[-1],
        "mean": sum(ordered) / len(ordered),
    }


def summarize(results: list[Result]) -> dict[str, Any]:
    good = [r for r in results if r.ok]
    errors: dict[str, int] = {}
    for r in results:
        if not r.ok:
            errors[r.error or "?"] = errors.get(r.error or "?", 0) + 1
    return {
        "requests": len(results),
        "ok": len(good),
        "errors": len(results) - len(good),
        "error_kinds": errors,
        "ttft_ms": {
            k: v and v * 1000 for k, v in percentiles([r.first - r.sent for r in good]).items()
        },
        "total_ms": {
            k: v and v * 1000 for k, v in percentiles([r.end - r.sent for r in good]).items()
        },
        "body_bytes_mean": (sum(r.body_bytes for r in good) / len(good)) if good else 0,
    }


async def one(
    conn: Connection, request: bytes, limit: float, *, stop_at_first: bool = False
) -> Result:
    try:
        return await asyncio.wait_for(conn.send(request, stop_at_first=stop_at_first), limit)
    except TimeoutError:
        conn.close()
        result = conn.result
        result.error = "timeout"
        return result


async def job_load(job: dict[str, Any]) -> dict[str, Any]:
    target = Target.from_json(job["target"])
    concurrency = int(job["concurrency"])
    per_worker = int(job.get("per_worker", 1))
    ramp = float(job.get("ramp", 1.0))
    timeout = float(job.get("timeout", 60))
    pids = [int(p) for p in job.get("pids", [])]
    fresh = bool(job.get("fresh", False))  # a new connection for every request
    request = target.request_bytes()
    results: list[Result] = []

    async def worker(index: int) -> None:
        await asyncio.sleep(ramp * index / concurrency)
        conn: Connection | None = None
        for _ in range(per_worker):
            reused = not (conn is None or conn.closed or not conn.keep or fresh)
            if not reused:
                if conn is not None:
                    conn.close()
                try:
                    conn = await connect(target)
                except OSError as error:
                    results.append(Result(error=f"connect: {error.__class__.__name__}"))
                    conn = None
                    continue
            assert conn is not None
            result = await one(conn, request, timeout)
            if reused and result.status == 0 and result.error == "connection closed":
                # The server closed the kept-alive connection as we reused it: any HTTP client
                # retries that on a new connection.
                conn = await connect(target)
                result = await one(conn, request, timeout)
            results.append(result)
        if conn is not None:
            conn.close()

    cpu0 = {pid: proc_cpu(pid) for pid in pids}
    busy0, own0, wall0 = machine_busy(), own_cpu(), time.perf_counter()
    await asyncio.gather(*(worker(i) for i in range(concurrency)))
    wall = time.perf_counter() - wall0
    own = own_cpu() - own0
    cpu1 = {pid: proc_cpu(pid) for pid in pids}
    busy = machine_busy() - busy0
    ours = own + sum(cpu1[pid] - cpu0[pid] for pid in pids)
    out = summarize(results)
    out.update(
        concurrency=concurrency,
        wall_s=wall,
        client_cpu_s=own,
        cpu_s={str(pid): cpu1[pid] - cpu0[pid] for pid in pids},
        # CPU that neither the servers measured nor this client used: other processes on a
        # shared machine (and the kernel's own work); high values mean a disturbed batch.
        other_cpu_pct=max(0.0, 100 * (busy - ours) / wall),
    )
    return out


async def job_ttft(job: dict[str, Any]) -> dict[str, Any]:
    targets = {name: Target.from_json(t) for name, t in job["targets"].items()}
    rounds = int(job["rounds"])
    warmup = int(job.get("warmup", 10))
    pause = float(job.get("pause", 0.01))
    # keepalive: one connection per target, each (short) stream read to its end, as a browser
    # on a kept-alive connection; else a fresh connection each time, closed at the first delta.
    keepalive = bool(job.get("keepalive", True))
    samples: dict[str, list[float]] = {name: [] for name in targets}
    errors: dict[str, int] = {name: 0 for name in targets}
    conns: dict[str, Connection] = {}
    for index in range(warmup + rounds):
        for name, target in targets.items():
            conn = conns.get(name)
            if conn is None or conn.closed or not conn.keep:
                conn = conns[name] = await connect(target)
            result = await one(conn, target.request_bytes(), 30.0, stop_at_first=not keepalive)
            if not keepalive:
                conn.close()
            if index >= warmup:
                if result.ok and result.first:
                    samples[name].append((result.first - result.sent) * 1000)
                else:
                    errors[name] += 1
            await asyncio.sleep(pause)
    for conn in conns.values():
        conn.close()
    return {
        name: {"errors": errors[name], "samples": len(values), "ms": percentiles(values)}
        for name, values in samples.items()
    }


async def job_hold(job: dict[str, Any]) -> dict[str, Any]:
    target = Target.from_json(job["target"])
    count = int(job["count"])
    ramp = float(job.get("ramp", 2.0))
    conns: list[Connection] = []
    request = target.request_bytes()

    async def open_one(index: int) -> None:
        await asyncio.sleep(ramp * index / count)
        conn = await connect(target)
        conns.append(conn)
        conn.send(request)
        assert conn.first_waiter is not None
        await conn.first_waiter

    try:
        async with asyncio.timeout(float(job.get("timeout", 60))):
            await asyncio.gather(*(open_one(i) for i in range(count)))
    except TimeoutError:
        pass
    opened = sum(1 for c in conns if c.result.first and not c.closed)
    print(json.dumps({"ready": opened}), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    for conn in conns:
        conn.close()
    await asyncio.sleep(0.2)
    return {"opened": opened, "requested": count}


def main() -> None:
    job = json.loads(sys.argv[1])
    runner: Callable[[Coroutine[Any, Any, dict[str, Any]]], dict[str, Any]]
    try:
        import uvloop

        runner = uvloop.run
        loop_name = "uvloop"
    except ImportError:
        runner = asyncio.run
        loop_name = "asyncio"
    kind = job["kind"]
    handler = {"load": job_load, "ttft": job_ttft, "hold": job_hold}[kind]
    out = runner(handler(job))
    out["client_loop"] = loop_name
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
