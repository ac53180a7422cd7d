"""The Procfile's own web command, run as a Heroku dyno runs it: two workers, SIGTERM to all."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from messagebot.fake_upstream import FakeUpstream

from .helpers import free_port, openai_env, stream, wait_until, wait_until_up, worker_pids

ROOT = Path(__file__).resolve().parent.parent
SECRET = {"name": "Zyxwname", "relation": "Qwertrel", "reason": "Plokreason"}


def web_command() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise AssertionError("the Procfile has no web: line")


async def start_dyno(env: dict[str, str], stdout: Any, stderr: Any) -> asyncio.subprocess.Process:
    """The Procfile's web line under bash, in its own process group, as a dyno's processes are."""
    return await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        web_command(),
        env=env,
        cwd=ROOT,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
    )


async def test_procfile_web_dyno_drains_on_sigterm(fake: FakeUpstream, tmp_path: Path) -> None:
    port = free_port()
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    env = {
        **os.environ,
        **openai_env(fake),
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "MESSAGEBOT_SHUTDOWN_GRACE_S": "3",
    }
    with out.open("wb") as stdout, err.open("wb") as stderr:
        dyno = await start_dyno(env, stdout, stderr)
    loop = asyncio.get_running_loop()
    try:
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(timeout=30) as client:
            health = await wait_until_up(client, f"{url}")
            assert health.json()["status"] == "ok"

            async def both_workers() -> bool:
                return len(await worker_pids(dyno.pid)) == 2

            await wait_until(both_workers, within=20, every=0.1, what="two Hypercorn workers")

            # /metrics adds up every worker's numbers, whichever worker answers the scrape.
            for _ in range(4):
                async with httpx.AsyncClient() as fresh:  # new connections: both workers
                    answer = await fresh.post(f"{url}/v1/messages", json=SECRET)
                    assert answer.status_code == 200
            expected = (
                'messagebot_requests_total{method="POST",route="/v1/messages",status="200"} 4.0',
                'messagebot_generations_total{outcome="stop",provider="openai"} 4.0',
                "messagebot_time_to_first_token_seconds_count 4.0",
                "messagebot_tokens_total",
            )

            async def scrape() -> str:
                async with httpx.AsyncClient() as fresh:
                    return (await fresh.get(f"{url}/metrics")).text

            # A worker counts a request once it has sent the response's last byte, which may
            # be after the client has it: wait for the counts, then every scrape must agree.
            async def counted() -> str | None:
                scraped = await scrape()
                return scraped if all(line in scraped for line in expected) else None

            await wait_until(counted, within=5, every=0.05, what="four requests counted")
            for _ in range(3):
                scraped = await scrape()
                for line in expected:
                    assert line in scraped, line

            short_started, long_started = asyncio.Event(), asyncio.Event()
            short = asyncio.create_task(
                stream(
                    client,
                    f"{url}/v1/messages/stream",
                    {**SECRET, "reason": "Plokreason [[fake chunks=10 delay=0.2]]"},
                    started=short_started,
                    headers={"X-Request-ID": "short-1"},
                )
            )
            long = asyncio.create_task(
                stream(
                    client,
                    f"{url}/v1/messages/stream",
                    {**SECRET, "reason": "Plokreason [[fake chunks=200 delay=0.1]]"},
                    started=long_started,
                    headers={"X-Request-ID": "long-1"},
                )
            )
            # Both streams under way (their `start` is out) before the signal, however slow
            # the machine: not a fixed sleep in the hope that they are.
            await asyncio.wait_for(asyncio.gather(short_started.wait(), long_started.wait()), 10)
            sent = loop.time()
            os.killpg(dyno.pid, signal.SIGTERM)  # Heroku signals every process of the dyno
            finished, ended = await short, await long
            # The stream that fits in the grace period completes; the other one ends with an
            # error event at the end of the grace period, not with a cut connection.
            assert finished.sequence[0] == "start" and finished.sequence[-1] == "done"
            assert ended.sequence[-1] == "error"
            assert ended.named("error")[0].data["code"] == "server_shutdown"
            assert 2.5 < ended.events[-1].at - sent < 6
            code = await asyncio.wait_for(dyno.wait(), 25)
            assert loop.time() - sent < 10  # well within Heroku's 30 s
            assert code == 0
    finally:
        if dyno.returncode is None:
            os.killpg(dyno.pid, signal.SIGKILL)
            await dyno.wait()

    stdout_text, stderr_text = out.read_text(), err.read_text()
    lines = [json.loads(line) for line in stdout_text.splitlines() if line.startswith("{")]
    by_id = {line["request_id"]: line for line in lines}
    assert by_id["short-1"] | {"duration_ms": 0} == {
        "request_id": "short-1",
        "method": "POST",
        "path": "/v1/messages/stream",
        "status": 200,
        "duration_ms": 0,
        "provider": "openai",
        "model": "fake-model",
        "tokens": 10,
        "finish_reason": "stop",
    }
    assert by_id["short-1"]["duration_ms"] > 1000
    assert by_id["long-1"]["finish_reason"] == "server_shutdown"
    assert any(line["path"] == "/healthz" and line["status"] == 200 for line in lines)
    # Nothing personal anywhere in what the dyno printed.
    for value in SECRET.values():
        assert value not in stdout_text and value not in stderr_text


async def drains_on_sigterm(server: asyncio.subprocess.Process, url: str, grace: float) -> None:
    """Two streams under way, then SIGTERM to `server`: the one that fits in the grace period
    completes, the other ends with `server_shutdown` once the grace period is over (not with a
    cut connection, nor at once), and the process exits, 0, well within Heroku's 30 s."""
    loop = asyncio.get_running_loop()
    async with httpx.AsyncClient(timeout=30) as client:
        await wait_until_up(client, url)
        short_started, long_started = asyncio.Event(), asyncio.Event()
        short = asyncio.create_task(
            stream(
                client,
                f"{url}/v1/messages/stream",
                {**SECRET, "reason": "x [[fake chunks=5 delay=0.2]]"},
                started=short_started,
            )
        )
        long = asyncio.create_task(
            stream(
                client,
                f"{url}/v1/messages/stream",
                {**SECRET, "reason": "x [[fake chunks=200 delay=0.1]]"},
                started=long_started,
            )
        )
        await asyncio.wait_for(asyncio.gather(short_started.wait(), long_started.wait()), 10)
        sent = loop.time()
        server.send_signal(signal.SIGTERM)
        finished, ended = await short, await long
        assert finished.sequence[-1] == "done"
        assert ended.named("error")[0].data["code"] == "server_shutdown"
        assert grace - 0.5 < ended.events[-1].at - sent < grace + 3
        assert await asyncio.wait_for(server.wait(), 15) == 0
        assert loop.time() - sent < 10


async def test_a_wrong_setting_fails_the_dyno_not_only_its_workers(fake: FakeUpstream) -> None:
    """Hypercorn exits 0 when its workers stop at start-up (pgjones/hypercorn#269): the
    Procfile checks the settings first, so a supervisor sees a failure and the reason."""
    env = {
        **os.environ,
        **openai_env(fake),
        "PORT": str(free_port()),
        "WEB_CONCURRENCY": "2",
        "MESSAGEBOT_RATE_LIMIT": "bogus",
    }
    dyno = await start_dyno(env, asyncio.subprocess.PIPE, asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(dyno.communicate(), 60)
    assert dyno.returncode == 2, (dyno.returncode, err.decode())
    assert "messagebot: configuration error: MESSAGEBOT_RATE_LIMIT" in err.decode()
    assert "Traceback" not in err.decode()


async def test_messagebot_serve_drains_on_sigterm(fake: FakeUpstream) -> None:
    """`messagebot serve` (one process, uvloop) gives running streams the grace period too,
    then ends them with `server_shutdown`, refuses new ones, and exits."""
    port = free_port()
    await run_and_drain(fake, port, "messagebot.cli", "serve", "--port", str(port))


@pytest.mark.parametrize("worker_class", ["asyncio", "uvloop"])
async def test_hypercorn_in_one_process_drains_on_sigterm(
    fake: FakeUpstream, worker_class: str
) -> None:
    """Plain `hypercorn --workers 0` serves in the process that gets SIGTERM: Hypercorn's own
    handler stops the server, ours (chained to it) drains the streams. The long stream would
    outlast Hypercorn's graceful timeout: without ours, it would be cut there, with no event."""
    port = free_port()
    await run_and_drain(
        fake,
        port,
        "hypercorn",
        "messagebot:create_app()",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "0",
        "--worker-class",
        worker_class,
        "--graceful-timeout",
        "8",
    )


async def run_and_drain(fake: FakeUpstream, port: int, module: str, *args: str) -> None:
    """`python -m module args…` serving on `port` with a 2 s grace period: drains_on_sigterm."""
    env = {**os.environ, **openai_env(fake), "MESSAGEBOT_SHUTDOWN_GRACE_S": "2"}
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await drains_on_sigterm(server, f"http://127.0.0.1:{port}", grace=2)
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()


async def test_sigterm_begins_the_drain_and_reaches_the_handler_before(
    fake: FakeUpstream,
) -> None:
    """In this process: while the app serves, SIGTERM refuses new generations and still
    reaches the handler that was there before ours; after serving, that one is back."""
    from .helpers import running

    received: list[int] = []

    def before(signum: int, frame: object) -> None:
        received.append(signum)

    previous = signal.signal(signal.SIGTERM, before)
    try:
        async with running(openai_env(fake)) as server, httpx.AsyncClient() as client:
            service = server.app.extensions["messagebot"]
            assert signal.getsignal(signal.SIGTERM) not in (before, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            await wait_until(
                lambda: service.shutting_down and received, within=5, what="the SIGTERM handled"
            )
            assert received == [signal.SIGTERM]
            refused = await client.post(f"{server.url}/v1/messages", json=SECRET)
            assert refused.status_code == 503
            assert refused.json()["error"]["code"] == "server_shutdown"
            assert refused.headers["retry-after"] == "5"
        assert signal.getsignal(signal.SIGTERM) is before
    finally:
        signal.signal(signal.SIGTERM, previous)


async def test_request_id_is_echoed_or_made(fake: FakeUpstream) -> None:
    from .helpers import running

    async with running(openai_env(fake)) as server, httpx.AsyncClient() as client:
        given = await client.get(f"{server.url}/healthz", headers={"X-Request-ID": "req-42"})
        assert given.headers["x-request-id"] == "req-42"
        made = await client.get(f"{server.url}/healthz", headers={"X-Request-ID": "bad id! {}"})
        assert len(made.headers["x-request-id"]) == 32


async def test_metrics_count_requests_errors_and_streams(fake: FakeUpstream) -> None:
    from .helpers import running

    async with running(openai_env(fake)) as server, httpx.AsyncClient() as client:

        def value(text: str, prefix: str) -> float:
            lines = [line for line in text.splitlines() if line.startswith(prefix)]
            return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0

        before = (await client.get(f"{server.url}/metrics")).text
        await client.post(f"{server.url}/v1/messages/stream", json=SECRET)
        await client.post(
            f"{server.url}/v1/messages", json={**SECRET, "reason": "x [[fake status=429]]"}
        )
        await client.post(f"{server.url}/v1/messages", json={"relation": ""})
        # A message that fails after it began is one error however it is told: a JSON error
        # answer, or the SSE stream's error event (each once, not once more for the stream).
        dropped = {**SECRET, "reason": "x [[fake drop_after=2]]"}
        await client.post(f"{server.url}/v1/messages", json=dropped)
        await client.post(f"{server.url}/v1/messages/stream", json=dropped)
        await client.get(f"{server.url}/no-such-page")
        growth = (
            (
                'messagebot_requests_total{method="POST",route="/v1/messages/stream",status="200"}',
                2,
            ),
            ('messagebot_errors_total{code="busy"}', 1),
            ('messagebot_errors_total{code="invalid_request"}', 1),
            ('messagebot_errors_total{code="upstream_error"}', 2),
            ('messagebot_errors_total{code="not_found"}', 1),
            ("messagebot_time_to_first_token_seconds_count", 3),
        )

        # A request is counted once its response has ended, and a stream leaves the
        # in-flight gauge as its generation ends: both may come a moment after the client
        # has the response, so wait for them (with a deadline), then check exactly.
        async def settled() -> str | None:
            after = (await client.get(f"{server.url}/metrics")).text
            grown = all(value(after, p) - value(before, p) >= n for p, n in growth)
            idle = value(after, "messagebot_generations_in_flight") == 0
            return after if grown and idle else None

        after = await wait_until(settled, within=5, what="the metrics to count the requests")
        assert after.startswith("# HELP") and "messagebot_generations_in_flight" in after
        for prefix, grew in growth:
            assert value(after, prefix) - value(before, prefix) == grew, prefix
