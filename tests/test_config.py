"""Every setting is read once, into Settings, and parsed strictly: a bad value stops the start
with a ConfigError whose message names the variable, and `messagebot serve` and the Hypercorn
factory show that message, not a traceback."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from messagebot.config import ConfigError, RateLimit, Settings, parse_rate_limit

from .helpers import free_port
from .test_cli import run_cli

OPENAI = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}

BAD = [
    ("MESSAGEBOT_PROVIDER", "bogus"),
    ("MESSAGEBOT_RATE_LIMIT", "lots"),
    ("MESSAGEBOT_RATE_LIMIT", "off"),
    ("MESSAGEBOT_PAGE_RATE_LIMIT", "20/fortnight"),
    ("MESSAGEBOT_TRUST_PROXY", "ture"),
    ("MESSAGEBOT_REDIS_VERIFY", "nope"),
    ("MESSAGEBOT_PAGE", "of"),
    ("MESSAGEBOT_CORS_ORIGINS", "*"),
    ("MESSAGEBOT_HEARTBEAT_S", "soon"),
    ("MESSAGEBOT_FIRST_TOKEN_TIMEOUT_S", "0"),
    ("MESSAGEBOT_GENERATION_TIMEOUT_S", "-1"),
    ("MESSAGEBOT_SHUTDOWN_GRACE_S", "1e9"),
    ("MESSAGEBOT_MAX_FLUSH_S", "x"),
    ("MESSAGEBOT_UPSTREAM_RETRIES", "9"),
    ("MESSAGEBOT_LOCAL_QUEUE", "0"),
    ("MESSAGEBOT_LOCAL_THREADS", "many"),
    ("MESSAGEBOT_LOCAL_SEED", "abc"),
    ("MESSAGEBOT_LOCAL_SEED", "-1"),
    ("MESSAGEBOT_LOCAL_SEED", str(2**32)),
    ("PROMETHEUS_MULTIPROC_DIR", "/nonexistent/messagebot-metrics"),
    ("PORT", "http"),
]


@pytest.mark.parametrize(("name", "value"), BAD)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**OPENAI, name: value})


def test_values_are_parsed_once_into_typed_settings(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            **OPENAI,
            "MESSAGEBOT_RATE_LIMIT": "5/second",
            "MESSAGEBOT_PAGE_RATE_LIMIT": "off",
            "MESSAGEBOT_TRUST_PROXY": "on",
            "MESSAGEBOT_LOCAL_SEED": "42",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
            "XDG_CACHE_HOME": str(tmp_path),
            "DYNO": "web.1",
        }
    )
    assert settings.rate_limit == RateLimit(5, timedelta(seconds=1))
    assert settings.page_rate_limit is None
    assert settings.trust_proxy is True
    assert settings.local_seed == 42
    assert settings.metrics_dir == tmp_path
    assert settings.cache_dir == tmp_path / "messagebot"
    assert settings.on_heroku is True
    defaults = Settings.from_env(OPENAI)
    assert defaults.rate_limit is None
    assert defaults.page_rate_limit == RateLimit(20, timedelta(minutes=1))
    assert defaults.trust_proxy is False
    assert defaults.local_seed is None  # a fresh seed for every request
    assert defaults.metrics_dir is None and defaults.on_heroku is False


def test_settings_are_read_nowhere_else() -> None:
    """Only config.py reads the environment."""
    package = Path(__file__).resolve().parent.parent / "messagebot"
    readers = {
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "os.environ" in path.read_text() or "getenv" in path.read_text()
    }
    assert readers == {"config.py"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MESSAGEBOT_LOCAL_SEED", "abc"),
        ("MESSAGEBOT_TRUST_PROXY", "ture"),
        # prometheus_client would open files there as soon as our metrics are defined.
        ("PROMETHEUS_MULTIPROC_DIR", "/nonexistent/messagebot-metrics"),
    ],
)
async def test_serve_shows_the_message_not_a_traceback(name: str, value: str) -> None:
    # Its own port: were the value taken, the server must not clash with another.
    env = {**OPENAI, "PORT": str(free_port()), name: value}
    _, err = await run_cli("serve", env=env, expect=2)
    assert f"messagebot: configuration error: {name}" in err
    assert "Traceback" not in err


async def test_the_hypercorn_factory_shows_the_message_not_a_traceback() -> None:
    """As the Procfile runs it, with two workers: each says why, and none serves."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hypercorn",
        "messagebot:create_app()",
        "--bind",
        "127.0.0.1:0",
        "--workers",
        "2",
        env={**os.environ, **OPENAI, "MESSAGEBOT_TRUST_PROXY": "ture"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), 60)
    text = err.decode()
    assert "messagebot: configuration error: MESSAGEBOT_TRUST_PROXY must be on or off" in text
    assert "Traceback" not in text


async def test_bad_rate_limit_is_refused_at_start() -> None:
    assert parse_rate_limit("20/minute").count == 20
    assert parse_rate_limit("5 per second").period.total_seconds() == 1
    assert parse_rate_limit("100/h").period.total_seconds() == 3600
    for bad in ("20", "0/minute", "x/minute", "20/fortnight"):
        with pytest.raises(ConfigError):
            parse_rate_limit(bad)
