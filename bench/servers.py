"""The processes under test and the load client's jobs against them (bench/run.py drives
these; bench/first_token.py uses the fake's start-up and the targets).

  * the fake upstream (`python -m messagebot.fake_upstream --chunks 50 --delay 0.02`), shared;
  * the baseline relay (bench/baseline.py), one worker;
  * MessageBot via its own `messagebot serve`, one process, OPENAI_BASE_URL at the fake;
  * a load batch, a hold of idle streams (bench/loadgen.py, its own process), and the local
    provider's bench (bench/local.py).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from loadgen import proc_rss  # bench/ is the running script's directory, so on sys.path
from results import Batch, Hold, Local

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
) -> Batch:
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
    # loadgen's LoadSummary, to which the lines below add the rest of a Batch.
    out = cast(Batch, loadgen(job))
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


def hold(srv: dict[str, Server], tgt: dict[str, Any], name: str, count: int) -> Hold:
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


def run_local(out: Path, args: argparse.Namespace) -> Local | None:
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
            return cast(Local, child("local.py", job, timeout=400))
        except ChildProcessError as error:
            print(f"  local bench failed:\n{str(error)[-2000:]}")
            return None
    finally:
        server.stop()
