"""py-spy on a server during a 200-stream batch, and the classifier of its raw stacks: who a
sample's CPU belongs to (owner) and which stage of a relayed stream it is in (STAGES)."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from results import Profile, ProfileSummary
from servers import PY, Server, batch


def profile(
    srv: dict[str, Server], tgt: dict[str, Any], name: str, out: Path, per_worker: int
) -> Profile | None:
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
    return {
        **summary,
        "batch": {
            "requests": result["requests"],
            "errors": result["errors"],
            "server_cpu_ms_per_stream": result["server_cpu_ms_per_stream"],
        },
    }


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


def summarize_profile(raw: Path) -> ProfileSummary:
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
        # Ties by name: the tables are filled from sets, whose order changes from run to run.
        ranked = sorted(table.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        return [(k, round(100 * v / total, 1)) for k, v in ranked]

    return {
        "samples": total,
        "by_owner_pct": top(self_cat, 30),
        "stages_pct": [(k, round(100 * stages.get(k, 0) / total, 1)) for k, _ in STAGES],
        "inclusive_by_owner_pct": top(incl_cat, 30),
        "self_top_functions_pct": top(self_fn, 25),
        "inclusive_top_functions_pct": top(incl_fn, 60),
    }
