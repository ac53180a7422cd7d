"""The command line: `messagebot write` and `messagebot serve`, run as real processes."""

from __future__ import annotations

import asyncio
import os
import sys

import httpx

from messagebot.fake_upstream import FakeUpstream

from .helpers import free_port, openai_env, stream, wait_until_up


async def run_cli(*args: str, env: dict[str, str], expect: int) -> tuple[str, str]:
    """Run `messagebot *args`; its exit status must be `expect`."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "messagebot.cli",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == expect, err.decode()
    return out.decode(), err.decode()


async def test_write_prints_the_message(fake: FakeUpstream) -> None:
    out, _ = await run_cli(
        "write",
        "--relation",
        "wife",
        "--reason",
        "birthday",
        "--name",
        "Minji",
        env=openai_env(fake),
        expect=0,
    )
    assert out.startswith("Happy birthday! Wishing you")
    assert out.endswith("\n")


async def test_write_reports_invalid_fields(fake: FakeUpstream) -> None:
    out, err = await run_cli(
        "write",
        "--relation",
        "wife",
        "--reason",
        "birthday",
        "--max-length",
        "5",
        env=openai_env(fake),
        expect=2,
    )
    assert out == ""
    assert "invalid_request" in err and "max_length: must be at least 20" in err


async def test_write_reports_upstream_failure(fake: FakeUpstream) -> None:
    _, err = await run_cli(
        "write",
        "--relation",
        "wife",
        "--reason",
        "x [[fake status=429]]",
        env=openai_env(fake),
        expect=1,
    )
    assert "busy" in err


async def test_bad_configuration_is_a_clear_error() -> None:
    _, err = await run_cli(
        "serve",
        env={"MESSAGEBOT_PROVIDER": "openai", "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""},
        expect=2,
    )
    assert "configuration error: MESSAGEBOT_PROVIDER=openai needs OPENAI_API_KEY" in err
    assert "Traceback" not in err


async def test_serve_reads_port(fake: FakeUpstream, client: httpx.AsyncClient) -> None:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "messagebot.cli",
        "serve",
        env={**os.environ, **openai_env(fake), "PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        await wait_until_up(client, f"{url}")
        result = await stream(
            client, f"{url}/v1/messages/stream", {"relation": "wife", "reason": "birthday"}
        )
        assert result.sequence[0] == "start" and result.sequence[-1] == "done"
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0
