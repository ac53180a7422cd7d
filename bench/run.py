"""MessageBot's benchmark (issues 3 and 8): one command, one run, both systems, ratios.

    python bench/run.py            # the whole bench, ~4 minutes on 2 cores
    python bench/run.py --quick    # smaller batches, ~2 minutes (noisier)
    python bench/run.py --profile  # also sample both servers with py-spy under 200 streams

It starts, on loopback ports of its own:
  * the fake upstream (`python -m messagebot.fake_upstream --chunks 50 --delay 0.02`), shared;
  * the baseline relay (bench/baseline.py: FastAPI + uvicorn + StreamingResponse + AsyncOpenAI,
    as the seeds' posts write it), one worker;
  * MessageBot via its own `messagebot serve`, one process, OPENAI_BASE_URL at the fake;
and drives them with bench/loadgen.py (raw asyncio/uvloop HTTP/1.1, its own process). CPU is
read from /proc/<pid>/stat (utime+stime, children included) around each batch. With the local
extra installed it then measures the local provider (bench/local.py).

It prints the figures, writes bench/out/results.json and bench/out/chart.png, and (full runs)
copies the chart to docs/bench.png.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.metadata
import importlib.util
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loadgen import proc_rss  # bench/ is this script's directory, so on sys.path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable

CHUNKS, DELAY = 50, 0.02
BODY = {"name": "Minji", "relation": "wife", "reason": "birthday", "max_length": "1000"}
DIRECT_BODY = {
    "model": "gpt-4o-mini",
    "stream": True,
    "messages": [{"role": "user", "content": "Write a warm birthday message to Minji, my wife."}],
}


# -- processes ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without anything that would change MessageBot's defaults."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MESSAGEBOT_", "OPENAI_")) and k not in ("REDIS_URL", "PORT")
    }
    env.update(extra)
    return env


class Server:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path, url: str):
        self.name, self.url = name, url
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        host, port = self.url.split("//")[1].split(":")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited at start-up; see {self._log.name}")
            try:
                conn = http.client.HTTPConnection(host, int(port), timeout=2)
                conn.request("GET", path)
                if conn.getresponse().status == 200:
                    conn.close()
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name} did not answer {path} in {timeout} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@contextlib.contextmanager
def servers(out: Path, args: argparse.Namespace) -> Iterator[dict[str, Server]]:
    started: list[Server] = []
    try:
        fport, bport, mport = free_port(), free_port(), free_port()
        upstream = f"http://127.0.0.1:{fport}/v1"
        fake_argv = [PY, "-m", "messagebot.fake_upstream", "--port", str(fport)]
        fake_argv += ["--chunks", str(CHUNKS), "--delay", str(DELAY)]
        fake = Server("fake", fake_argv, clean_env(), out / "fake.log", f"http://127.0.0.1:{fport}")
        started.append(fake)
        fake.wait_ready("/v1/models")
        base_argv = [PY, str(HERE / "baseline.py"), "--port", str(bport)]
        if args.baseline_standard:
            base_argv.append("--standard")
        base = Server(
            "baseline",
            base_argv,
            clean_env(OPENAI_BASE_URL=upstream, OPENAI_API_KEY="x"),
            out / "baseline.log",
            f"http://127.0.0.1:{bport}",
        )
        started.append(base)
        mb = Server(
            "messagebot",
            [*messagebot_cmd(), "serve", "--port", str(mport)],
            clean_env(OPENAI_BASE_URL=upstream, OPENAI_API_KEY="x", MESSAGEBOT_PROVIDER="openai"),
            out / "messagebot.log",
            f"http://127.0.0.1:{mport}",
        )
        started.append(mb)
        base.wait_ready("/healthz")
        mb.wait_ready("/healthz")
        yield {"fake": fake, "baseline": base, "messagebot": mb}
    finally:
        for server in reversed(started):
            server.stop()


def messagebot_cmd() -> list[str]:
    script = Path(PY).parent / "messagebot"
    if script.exists():
        return [str(script)]
    found = shutil.which("messagebot")
    return [found] if found else [PY, "-m", "messagebot.cli"]


# -- the load client ------------------------------------------------------------------------


def child(script: str, job: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run bench/<script> on a JSON job in its own process; its last line is the result.
    Raises ChildProcessError with the end of its stderr if it fails."""
    done = subprocess.run(
        [PY, str(HERE / script), json.dumps(job)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise ChildProcessError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def loadgen(job: dict[str, Any]) -> dict[str, Any]:
    try:
        return child("loadgen.py", job, timeout=300)
    except ChildProcessError as error:
        raise SystemExit(f"loadgen failed:\n{error}") from None


def short_body(body: dict[str, Any], directive: str) -> dict[str, Any]:
    """The same body with a fake-upstream directive in it (in `reason`, or the user message)."""
    if "messages" in body:
        messages = [dict(m) for m in body["messages"]]
        messages[-1]["content"] += f" {directive}"
        return dict(body, messages=messages)
    return dict(body, reason=f"{body['reason']} {directive}")


def targets(srv: dict[str, Server]) -> dict[str, dict[str, Any]]:
    return targets_at({name: int(server.url.rsplit(":", 1)[1]) for name, server in srv.items()})


def targets_at(port: dict[str, int]) -> dict[str, dict[str, Any]]:
    """What the load client sends to each system: the fake called directly, the baseline and
    MessageBot, by port."""
    return {
        "direct": {
            "port": port["fake"],
            "path": "/v1/chat/completions",
            "mode": "openai",
            "body": DIRECT_BODY,
            "headers": {"Authorization": "Bearer x"},
        },
        "baseline": {"port": port["baseline"], "path": "/streaming/", "mode": "text", "body": BODY},
        "messagebot": {
            "port": port["messagebot"],
            "path": "/v1/messages/stream",
            "mode": "sse",
            "body": BODY,
            "headers": {"Accept": "text/event-stream"},
        },
    }


def batch(
    srv: dict[str, Server],
    tgt: dict[str, Any],
    name: str,
    concurrency: int,
    per_worker: int,
    reason: str | None = None,
) -> dict[str, Any]:
    pids = [srv["fake"].pid] + ([srv[name].pid] if name in srv and name != "fake" else [])
    target = tgt[name]
    if reason is not None:
        target = dict(target, body=dict(BODY, reason=reason))
    job = {
        "kind": "load",
        "target": target,
        "concurrency": concurrency,
        "per_worker": per_worker,
        "ramp": 1.0,
        "pids": pids,
    }
    out = loadgen(job)
    n = out["requests"]
    out["target"] = name
    out["fake_cpu_ms_per_stream"] = out["cpu_s"][str(srv["fake"].pid)] / n * 1000
    out["fake_cpu_pct"] = 100 * out["cpu_s"][str(srv["fake"].pid)] / out["wall_s"]
    out["client_cpu_pct"] = 100 * out["client_cpu_s"] / out["wall_s"]
    if name != "direct":
        cpu = out["cpu_s"][str(srv[name].pid)]
        out["server_cpu_ms_per_stream"] = cpu / n * 1000
        out["server_cpu_pct"] = 100 * cpu / out["wall_s"]
    return out


def hold(srv: dict[str, Server], tgt: dict[str, Any], name: str, count: int) -> dict[str, Any]:
    """RSS with `count` streams open and idle (the fake sends one piece, then waits)."""
    target = dict(tgt[name])
    target["body"] = dict(BODY, reason="birthday [[fake hang_after=1]]")
    pid = srv[name].pid
    time.sleep(0.5)
    before = proc_rss(pid)
    proc = subprocess.Popen(
        [
            PY,
            str(HERE / "loadgen.py"),
            json.dumps({"kind": "hold", "target": target, "count": count, "ramp": 2.5}),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    ready = json.loads(proc.stdout.readline())["ready"]
    time.sleep(0.5)
    during = proc_rss(pid)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    proc.communicate(timeout=60)
    time.sleep(1.0)
    after = proc_rss(pid)
    return {
        "streams": count,
        "open": ready,
        "rss_before_mb": before / 2**20,
        "rss_open_mb": during / 2**20,
        "rss_after_mb": after / 2**20,
        "kb_per_stream": (during - before) / max(1, ready) / 1024,
    }


# -- profiling ------------------------------------------------------------------------------


def profile(
    srv: dict[str, Server], tgt: dict[str, Any], name: str, out: Path, per_worker: int
) -> dict[str, Any] | None:
    spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    if not Path(spy).exists():
        print("  (py-spy not installed: pip install -r bench/requirements.txt)")
        return None
    raw = out / f"profile-{name}.txt"
    proc = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(srv[name].pid),
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(raw),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.5)
    result = batch(srv, tgt, name, 200, per_worker)
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    if not raw.exists():
        return None
    summary = summarize_profile(raw)
    summary["batch"] = {k: result[k] for k in ("requests", "errors", "server_cpu_ms_per_stream")}
    return summary


# Who a sample's CPU belongs to: the innermost frame from one of these packages (so stdlib
# helpers such as typing, inspect or json count for the package that called them); a leaf in
# asyncio's socket transports or selectors counts as socket I/O.
OWNERS = {
    "openai": "openai SDK",
    "typing_extensions": None,  # called by the SDK's models: counts for its caller
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",
    "httpx2": "httpx2/httpcore2 (upstream HTTP client)",
    "httpcore2": "httpx2/httpcore2 (upstream HTTP client)",
    "httpx": "httpx/httpcore (upstream HTTP client)",
    "httpcore": "httpx/httpcore (upstream HTTP client)",
    "anyio": "anyio",
    "aiohttp": "aiohttp (MessageBot's upstream transport)",
    "yarl": "aiohttp (MessageBot's upstream transport)",
    "multidict": "aiohttp (MessageBot's upstream transport)",
    "h11": None,  # both hypercorn and httpcore2 parse HTTP/1.1 with it: counts for its caller
    "hypercorn": "hypercorn",
    "quart": "quart",
    "quart_schema": "quart-schema",
    "quart_cors": "quart-cors",
    "redis": "redis-py (rate limit, counters)",
    "werkzeug": "werkzeug",
    "flask": "flask",
    "starlette": "starlette",
    "fastapi": "fastapi",
    "uvicorn": "uvicorn",
    "jinja2": "jinja2",
    "messagebot": "messagebot",
    "baseline.py": "baseline.py",
}
# Threads waiting for work (py-spy may count a thread blocked on a lock as active).
IDLE = ("_worker (concurrent/futures/thread.py:81)", "Condition.wait (", "Event.wait (threading")
SOCKET_IO = ("asyncio/selector_events.py", "selectors.py", "socket.py", "ssl.py")


def frame_file(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)".
    return frame.rsplit(" (", 1)[1].rsplit(":", 1)[0] if " (" in frame else ""


def callback_frames(frames: list[str]) -> list[str]:
    """The frames inside the event-loop callback; those above it are the process's entry point
    (messagebot serve, uvicorn.run, asyncio.run) and belong to no one."""
    for index in range(len(frames) - 1, -1, -1):
        if frames[index].startswith("Handle._run (asyncio/events.py"):
            return frames[index + 1 :]
    return frames


def label(frame: str) -> str | None:
    path = frame_file(frame)
    top = path.split("/", 1)[0]
    name = OWNERS.get(top)
    if name == "messagebot":
        # cli.py and the console script are the entry point, not work.
        return path if "/" in path and not path.endswith("/cli.py") else None
    if name == "baseline.py" and frame.startswith(("main ", "<module> ")):
        return None
    return name


def owner(frames: list[str]) -> str:
    if frame_file(frames[-1]).endswith(SOCKET_IO):
        return "asyncio socket I/O and selector"
    for frame in reversed(callback_frames(frames)):
        name = label(frame)
        if name:
            return name
    return "asyncio event loop, other stdlib"


# Stages of a relayed stream, by library frames that either system goes through (inclusive).
STAGES: list[tuple[str, tuple[str, ...]]] = [
    (
        "upstream request until its headers (the SDK's call, or ours)",
        (
            "AsyncCompletions.create (openai",
            "AsyncAPIClient.request (openai",
            "OpenAIProvider._send (messagebot",
        ),
    ),
    ("  of which: SDK params transform", ("(openai/_utils/_transform.py",)),
    (
        "  of which: new upstream TCP connections",
        ("connect_tcp (", "._connect (httpcore2", "TCPConnector._create_connection (aiohttp"),
    ),
    (
        "upstream body reads (httpx2, or aiohttp)",
        ("Response.aiter_raw (httpx2", "AsyncStreamIterator.__anext__ (aiohttp"),
    ),
    ("SDK per-chunk objects (pydantic construct)", ("_process_response_data (openai",)),
    ("JSON decoding of chunks", ("(json/decoder.py",)),
    (
        "writing to the client (server send path)",
        ("ASGIHTTPConnection._send_response (quart", "RequestResponseCycle.send (uvicorn"),
    ),
    (
        "upstream close",
        (
            "AsyncResponseContextManager.__aexit__ (openai",
            "Response.aclose (httpx2",
            "OpenAIGeneration.aclose (messagebot",
        ),
    ),
]


def summarize_profile(raw: Path) -> dict[str, Any]:
    self_cat: dict[str, int] = {}
    incl_cat: dict[str, int] = {}
    self_fn: dict[str, int] = {}
    incl_fn: dict[str, int] = {}
    stages: dict[str, int] = {}
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread "))]
        if not frames or frames[-1].startswith(IDLE):
            continue
        total += count
        leaf = frames[-1]
        self_fn[leaf] = self_fn.get(leaf, 0) + count
        who = owner(frames)
        self_cat[who] = self_cat.get(who, 0) + count
        for c in {label(f) for f in callback_frames(frames)} - {None}:
            incl_cat[str(c)] = incl_cat.get(str(c), 0) + count
        for f in set(frames):
            incl_fn[f] = incl_fn.get(f, 0) + count
        for stage, keys in STAGES:
            if any(key in f for f in frames for key in keys):
                stages[stage] = stages.get(stage, 0) + count

    def top(table: dict[str, int], n: int) -> list[tuple[str, float]]:
        ranked = sorted(table.items(), key=lambda kv: -kv[1])[:n]
        return [(k, round(100 * v / total, 1)) for k, v in ranked]

    return {
        "samples": total,
        "by_owner_pct": top(self_cat, 30),
        "stages_pct": [(k, round(100 * stages.get(k, 0) / total, 1)) for k, _ in STAGES],
        "inclusive_by_owner_pct": top(incl_cat, 30),
        "self_top_functions_pct": top(self_fn, 25),
        "inclusive_top_functions_pct": top(incl_fn, 60),
    }


# -- the run --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as file:
        for line in file:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions = {}
    for dist in (
        "messagebot",
        "openai",
        "httpx2",
        "httpx",
        "pydantic",
        "quart",
        "hypercorn",
        "h11",
        "fastapi",
        "starlette",
        "uvicorn",
        "uvloop",
        "llama-cpp-python",
    ):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[dist] = importlib.metadata.version(dist)
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "loadavg_at_start": os.getloadavg(),
        "versions": versions,
    }


def run_local(out: Path, args: argparse.Namespace) -> dict[str, Any] | None:
    if args.no_local:
        return None
    if importlib.util.find_spec("llama_cpp") is None:
        print("  (local provider skipped: pip install '.[local]')")
        return None
    port = free_port()
    server = Server(
        "messagebot-local",
        [*messagebot_cmd(), "serve", "--port", str(port)],
        clean_env(MESSAGEBOT_PROVIDER="local", MESSAGEBOT_LOCAL_QUEUE="16"),
        out / "messagebot-local.log",
        f"http://127.0.0.1:{port}",
    )
    try:
        server.wait_ready("/healthz", timeout=120)
        job = {
            "runs": 2 if args.quick else 3,
            "http_port": port,
            "http_runs": 3 if args.quick else 6,
        }
        try:
            return child("local.py", job, timeout=400)
        except ChildProcessError as error:
            print(f"  local bench failed:\n{str(error)[-2000:]}")
            return None
    finally:
        server.stop()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller batches (noisier)")
    parser.add_argument("--profile", action="store_true", help="py-spy both servers at 200")
    parser.add_argument("--no-local", action="store_true", help="skip the local provider")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    parser.add_argument(
        "--baseline-standard",
        action="store_true",
        help="run the baseline's uvicorn with uvloop/httptools when installed",
    )
    parser.add_argument("--no-docs", action="store_true", help="do not copy to docs/bench.png")
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    quick = args.quick
    levels = [10, 50, 100, 200, 400]
    # Streams per worker at each level: enough streams per batch, bounded time.
    per_worker = (
        {10: 3, 50: 2, 100: 2, 200: 2, 400: 1} if quick else {10: 4, 50: 3, 100: 3, 200: 3, 400: 2}
    )
    results: dict[str, Any] = {
        "machine": machine(),
        "setup": {
            "fake_upstream": {"chunks": CHUNKS, "delay_s": DELAY},
            "levels": levels,
            "per_worker": per_worker,
            "quick": quick,
            "baseline_server": "uvicorn (uvloop/httptools if installed)"
            if args.baseline_standard
            else "uvicorn (asyncio loop, h11)",
        },
    }
    t0 = time.monotonic()

    def lap() -> str:
        return f"at {time.monotonic() - t0:.0f} s"

    with servers(out, args) as srv:
        tgt = targets(srv)
        print(
            f"servers up: fake {srv['fake'].url}, baseline {srv['baseline'].url}, "
            f"messagebot {srv['messagebot'].url}"
        )
        for name in ("direct", "baseline", "messagebot"):
            batch(srv, tgt, name, 25, 2)  # warm-up: imports, pools, caches
        print(f"memory: idle streams held open ({lap()})")
        results["memory"] = {
            name: hold(srv, tgt, name, 200 if quick else 500) for name in ("baseline", "messagebot")
        }
        print(f"first token: sequential requests ({lap()})")
        # Short streams (2 chunks) read to the end on kept-alive connections: steady state,
        # no connection set-up on either side of the relay in the figure.
        short = {
            name: dict(t, body=short_body(t["body"], "[[fake chunks=2]]"))
            for name, t in tgt.items()
        }
        ttft = loadgen(
            {
                "kind": "ttft",
                "targets": short,
                "rounds": 60 if quick else 200,
                "warmup": 10 if quick else 20,
            }
        )
        ttft.pop("client_loop", None)
        results["ttft_sequential"] = ttft
        print(f"load sweep ({lap()})")
        sweep: dict[str, dict[str, Any]] = {name: {} for name in tgt}
        for level in levels:
            for name in ("direct", "baseline", "messagebot"):
                r = batch(srv, tgt, name, level, per_worker[level])
                sweep[name][str(level)] = r
                print(
                    f"  {name:10} c={level:3}: {r['ok']}/{r['requests']} ok, "
                    f"server {r.get('server_cpu_ms_per_stream', 0):5.2f} ms/stream "
                    f"({r.get('server_cpu_pct', 0):3.0f}% cpu), "
                    f"ttft p50 {r['ttft_ms']['p50'] or 0:7.1f} p99 {r['ttft_ms']['p99'] or 0:7.1f}"
                    f", fake {r['fake_cpu_pct']:3.0f}%, client {r['client_cpu_pct']:3.0f}%"
                    f", other {r['other_cpu_pct']:3.0f}%"
                )
        results["sweep"] = sweep
        # The headline level again, alternating, so each system has several samples at 200.
        print(f"200 streams again, alternating ({lap()})")
        repeat: dict[str, list[dict[str, Any]]] = {"baseline": [], "messagebot": []}
        for _ in range(1 if quick else 2):
            for name in ("messagebot", "baseline"):
                repeat[name].append(batch(srv, tgt, name, 200, per_worker[200]))
        results["repeat_200"] = repeat
        print(f"per-request and per-chunk cost: 5- and 50-chunk streams at c=25 ({lap()})")
        split: dict[str, Any] = {}
        for name in ("baseline", "messagebot"):
            few = batch(srv, tgt, name, 25, 3, reason="birthday [[fake chunks=5]]")
            many = batch(srv, tgt, name, 25, 3)
            per_chunk = (many["server_cpu_ms_per_stream"] - few["server_cpu_ms_per_stream"]) / 45
            split[name] = {
                "cpu_ms_per_stream_5_chunks": few["server_cpu_ms_per_stream"],
                "cpu_ms_per_stream_50_chunks": many["server_cpu_ms_per_stream"],
                "per_chunk_us": per_chunk * 1000,
                "per_request_ms": few["server_cpu_ms_per_stream"] - 5 * per_chunk,
                "errors": few["errors"] + many["errors"],
            }
        results["split"] = split
        if args.profile:
            print(f"profile: py-spy on each server under 200 streams ({lap()})")
            results["profile"] = {
                name: profile(srv, tgt, name, out, per_worker[200])
                for name in ("messagebot", "baseline")
            }
        results["fake_log_lines"] = sum(1 for _ in (out / "fake.log").open("rb"))
    print(f"local provider ({lap()})")
    results["local"] = run_local(out, args)
    results["elapsed_s"] = time.monotonic() - t0
    results["figures"] = figures(results)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    report(results)
    chart(results, out / "chart.png")
    if not quick and not args.no_docs:
        shutil.copyfile(out / "chart.png", ROOT / "docs" / "bench.png")
    print(f"\nwrote {out / 'results.json'} and {out / 'chart.png'} in {results['elapsed_s']:.0f} s")
    return 0


def figures(results: dict[str, Any]) -> dict[str, Any]:
    sweep = results["sweep"]
    cpu200 = {
        name: [sweep[name]["200"]["server_cpu_ms_per_stream"]]
        + [r["server_cpu_ms_per_stream"] for r in results["repeat_200"][name]]
        for name in ("baseline", "messagebot")
    }
    ttft = results["ttft_sequential"]
    direct_p50 = ttft["direct"]["ms"]["p50"]
    fig: dict[str, Any] = {
        "cpu_ms_per_stream_200": {k: median(v) for k, v in cpu200.items()},
        "cpu_ms_per_stream_200_samples": cpu200,
        "first_token_p50_ms": {k: v["ms"]["p50"] for k, v in ttft.items()},
        "first_token_overhead_p50_ms": {
            k: ttft[k]["ms"]["p50"] - direct_p50 for k in ("baseline", "messagebot")
        },
    }
    fig["cpu_ratio_200"] = (
        fig["cpu_ms_per_stream_200"]["messagebot"] / fig["cpu_ms_per_stream_200"]["baseline"]
    )
    at400 = {name: sweep[name]["400"] for name in sweep}
    fig["c400"] = {
        name: {
            "errors": at400[name]["errors"],
            "requests": at400[name]["requests"],
            "ttft_p99_ms": at400[name]["ttft_ms"]["p99"],
            "total_p99_ms": at400[name]["total_ms"]["p99"],
            "added_ttft_p99_ms": (at400[name]["ttft_ms"]["p99"] or 0)
            - (at400["direct"]["ttft_ms"]["p99"] or 0),
            "added_total_p99_ms": (at400[name]["total_ms"]["p99"] or 0)
            - (at400["direct"]["total_ms"]["p99"] or 0),
        }
        for name in ("baseline", "messagebot")
    }
    fig["rss_kb_per_open_stream"] = {k: v["kb_per_stream"] for k, v in results["memory"].items()}
    local = results.get("local")
    if local:
        inproc = local["inprocess"]
        fig["local_inprocess_tokens_per_s"] = {
            "raw": inproc["raw"]["median"],
            "provider": inproc["provider"]["median"],
        }
        if inproc["raw"]["median"] and inproc["provider"]["median"]:
            fig["local_inprocess_ratio"] = inproc["provider"]["median"] / inproc["raw"]["median"]
        if "http_short" in local:
            h = local["http_short"]
            fig["local_http_short_tokens_per_s"] = {
                "raw": h["raw"]["median"],
                "service": h["service"]["median"],
            }
            if h["raw"]["median"] and h["service"]["median"]:
                fig["local_http_short_ratio"] = h["service"]["median"] / h["raw"]["median"]
            fig["local_http_short_end_to_end_tokens_per_s"] = {
                "raw": h["raw"]["end_to_end_median"],
                "service": h["service"]["end_to_end_median"],
            }
            if h["raw"]["end_to_end_median"] and h["service"]["end_to_end_median"]:
                fig["local_http_short_end_to_end_ratio"] = (
                    h["service"]["end_to_end_median"] / h["raw"]["end_to_end_median"]
                )
    fig["sweep"] = {
        level: {
            "cpu_ms_per_stream": {
                n: sweep[n][level]["server_cpu_ms_per_stream"] for n in ("baseline", "messagebot")
            },
            "cpu_ratio": sweep["messagebot"][level]["server_cpu_ms_per_stream"]
            / sweep["baseline"][level]["server_cpu_ms_per_stream"],
            "server_cpu_pct": {
                n: sweep[n][level]["server_cpu_pct"] for n in ("baseline", "messagebot")
            },
            "streams_per_s": {
                n: sweep[n][level]["requests"] / sweep[n][level]["wall_s"] for n in sweep
            },
            "ttft_p50_ms": {n: sweep[n][level]["ttft_ms"]["p50"] for n in sweep},
            "ttft_p99_ms": {n: sweep[n][level]["ttft_ms"]["p99"] for n in sweep},
            "errors": {n: sweep[n][level]["errors"] for n in sweep},
        }
        for level in sweep["baseline"]
    }
    client = [r["client_cpu_pct"] for s in sweep.values() for r in s.values()]
    fake = [r["fake_cpu_pct"] for s in sweep.values() for r in s.values()]
    fig["other_cpu_pct_max"] = max(r["other_cpu_pct"] for s in sweep.values() for r in s.values())
    fig["load_client_cpu_pct_max"] = max(client)
    fig["fake_cpu_pct_max"] = max(fake)
    return fig


def report(results: dict[str, Any]) -> None:
    f = results["figures"]
    m = results["machine"]
    print(
        f"\nMessageBot bench: {m['cores']} cores ({m['cpu']}), Python {m['python']}, "
        f"load avg at start {m['loadavg_at_start'][0]:.2f}"
    )
    print(
        f"fake upstream: {CHUNKS} chunks, {DELAY * 1000:.0f} ms apart; one worker per system; "
        f"baseline = {results['setup']['baseline_server']}"
    )
    cpu = f["cpu_ms_per_stream_200"]
    ft = f["first_token_overhead_p50_ms"]
    c4 = f["c400"]
    mem = f["rss_kb_per_open_stream"]
    rows = [
        (
            "CPU per stream @200 (ms)",
            cpu["baseline"],
            cpu["messagebot"],
            f"{f['cpu_ratio_200']:.2f}x",
            "<= 0.5x",
        ),
        (
            "first-token overhead p50 (ms)",
            ft["baseline"],
            ft["messagebot"],
            f"{ft['messagebot'] - ft['baseline']:+.2f} ms",
            "<= 1.0 ms",
        ),
        (
            "errors @400",
            c4["baseline"]["errors"],
            c4["messagebot"]["errors"],
            f"of {c4['messagebot']['requests']}",
            "0",
        ),
        (
            "added TTFT p99 @400 (ms)",
            c4["baseline"]["added_ttft_p99_ms"],
            c4["messagebot"]["added_ttft_p99_ms"],
            "",
            "report",
        ),
        (
            "added stream-time p99 @400 (ms)",
            c4["baseline"]["added_total_p99_ms"],
            c4["messagebot"]["added_total_p99_ms"],
            "",
            "report",
        ),
        (
            "RSS per open stream (KiB)",
            mem["baseline"],
            mem["messagebot"],
            f"{mem['messagebot'] / mem['baseline']:.2f}x" if mem["baseline"] > 0 else "",
            "report",
        ),
    ]
    print(f"\n{'':34}{'baseline':>10}{'MessageBot':>12}{'ratio/diff':>13}   goal")
    for label, a, b, ratio, goal in rows:
        print(f"{label:34}{a:>10.2f}{b:>12.2f}{ratio:>13}   {goal}")
    print(
        "\nby concurrency: server CPU per stream (ms), MessageBot/baseline, server CPU %, "
        "time to first delta p50 (ms)"
    )
    print(
        f"{'c':>5}{'baseline':>10}{'MessageBot':>12}{'ratio':>7}{'cpu% b/m':>11}"
        f"{'ttft b/m/direct':>22}"
    )
    for level, row in f["sweep"].items():
        cpu, pct, t = row["cpu_ms_per_stream"], row["server_cpu_pct"], row["ttft_p50_ms"]
        print(
            f"{level:>5}{cpu['baseline']:>10.2f}{cpu['messagebot']:>12.2f}{row['cpu_ratio']:>7.2f}"
            f"{pct['baseline']:>6.0f}/{pct['messagebot']:<4.0f}"
            f"{t['baseline']:>10.1f}/{t['messagebot']:.1f}/{t['direct']:.1f}"
        )
    split = results.get("split")
    if split:
        b, m = split["baseline"], split["messagebot"]
        print(
            f"\ncost split at c=25 (5- vs 50-chunk streams): per request baseline "
            f"{b['per_request_ms']:.2f} ms, MessageBot {m['per_request_ms']:.2f} ms; per chunk "
            f"baseline {b['per_chunk_us']:.0f} us, MessageBot {m['per_chunk_us']:.0f} us"
        )
    if "local_inprocess_ratio" in f:
        t = f["local_inprocess_tokens_per_s"]
        print(
            f"\nlocal, 200-token generations in-process: provider {t['provider']:.1f} tok/s vs "
            f"llama-cpp-python {t['raw']:.1f} tok/s = {f['local_inprocess_ratio']:.2f}x "
            "(goal >= 0.95x)"
        )
    if "local_http_short_ratio" in f:
        t = f["local_http_short_tokens_per_s"]
        print(
            f"local, one-line messages over HTTP: service {t['service']:.1f} tok/s vs "
            f"llama-cpp-python {t['raw']:.1f} tok/s = {f['local_http_short_ratio']:.2f}x "
            "(first to last token; ~13 tokens, shaky)"
        )
    if "local_http_short_end_to_end_ratio" in f:
        t = f["local_http_short_end_to_end_tokens_per_s"]
        print(
            f"  end to end (request sent to done): service {t['service']:.1f} tok/s vs "
            f"llama-cpp-python {t['raw']:.1f} tok/s = "
            f"{f['local_http_short_end_to_end_ratio']:.2f}x"
        )
    print(
        f"\nload client CPU at most {f['load_client_cpu_pct_max']:.0f}% of a core; "
        f"fake upstream at most {f['fake_cpu_pct_max']:.0f}%; other processes (shared "
        f"machine, kernel) at most {f['other_cpu_pct_max']:.0f}% during a sweep batch"
    )
    for name, prof in (results.get("profile") or {}).items():
        if not prof:
            continue
        per = prof["batch"]["server_cpu_ms_per_stream"]
        print(
            f"\nprofile {name} ({prof['samples']} samples, {per:.2f} ms CPU/stream), CPU by owner:"
        )
        for label, pct in prof["by_owner_pct"][:12]:
            print(f"  {pct:5.1f}%  {per * pct / 100:5.2f} ms/stream  {label}")
        print("  stages (inclusive):")
        for label, pct in prof["stages_pct"]:
            print(f"  {pct:5.1f}%  {per * pct / 100:5.2f} ms/stream  {label}")


def chart(results: dict[str, Any], path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  (no chart: pip install -r bench/requirements.txt)")
        return
    sweep = results["sweep"]
    levels = [int(x) for x in sweep["baseline"]]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), dpi=110)
    styles = {
        "baseline": ("#d62728", "FastAPI + uvicorn + AsyncOpenAI"),
        "messagebot": ("#1f77b4", "MessageBot (Quart + Hypercorn)"),
        "direct": ("#7f7f7f", "fake upstream, direct"),
    }
    for name in ("baseline", "messagebot"):
        color, label = styles[name]
        ax1.plot(
            levels,
            [sweep[name][str(c)]["server_cpu_ms_per_stream"] for c in levels],
            "o-",
            color=color,
            label=label,
        )
    ax1.plot(
        levels,
        [0.5 * sweep["baseline"][str(c)]["server_cpu_ms_per_stream"] for c in levels],
        "--",
        color="#d62728",
        alpha=0.45,
        linewidth=1,
        label="goal: 0.5x the baseline",
    )
    ax1.plot(
        levels,
        [sweep["direct"][str(c)]["fake_cpu_ms_per_stream"] for c in levels],
        "s:",
        color="#7f7f7f",
        label="the fake upstream itself",
    )
    ax1.set_xscale("log")
    ax1.set_xticks(levels, [str(c) for c in levels])
    ax1.set_ylim(bottom=0)
    ax1.set_xlabel("concurrent streams (one worker)")
    ax1.set_ylabel("server CPU per stream (ms)")
    ax1.set_title("CPU per 50-chunk stream")
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    for name in ("baseline", "messagebot", "direct"):
        color, label = styles[name]
        p50 = [sweep[name][str(c)]["ttft_ms"]["p50"] for c in levels]
        p99 = [sweep[name][str(c)]["ttft_ms"]["p99"] for c in levels]
        ax2.plot(levels, p50, "o-", color=color, label=f"{label} p50")
        ax2.plot(levels, p99, "^--", color=color, alpha=0.7, label=f"{label} p99")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xticks(levels, [str(c) for c in levels])
    ax2.set_xlabel("concurrent streams (one worker)")
    ax2.set_ylabel("time to first delta (ms)")
    ax2.set_title("Latency to the first token")
    ax2.grid(alpha=0.3, which="both")
    ax2.legend(fontsize=7)
    m = results["machine"]
    fig.suptitle(
        f"Fake upstream: {CHUNKS} chunks, {DELAY * 1000:.0f} ms apart; {m['cores']} cores, "
        f"load client and fake on the same machine",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
