"""`messagebot check` (the Procfile runs it before Hypercorn) refuses what a worker would stop
on: a REDIS_URL redis-py cannot take passed the check and stopped each worker at start-up with
a traceback, and Hypercorn's master then exited 0 (pgjones/hypercorn#269)."""

from __future__ import annotations

import pytest

from messagebot.config import ConfigError, Settings

from .test_cli import run_cli

OPENAI = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}


@pytest.mark.parametrize("url", ["notaurl", "http://127.0.0.1:6379", "rediss//:secret@host"])
async def test_a_redis_url_redis_cannot_take_fails_the_check(url: str) -> None:
    _, err = await run_cli("check", env={**OPENAI, "REDIS_URL": url}, expect=2)
    assert "messagebot: configuration error: REDIS_URL must start with redis://" in err
    assert "secret" not in err  # a URL holds its password: it is not echoed
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "url", ["redis://127.0.0.1:6379/0", "rediss://:pw@host:6380", "unix:///tmp/redis.sock"]
)
def test_redis_urls_redis_takes_are_kept(url: str) -> None:
    assert Settings.from_env({**OPENAI, "REDIS_URL": url}).redis_url == url


def test_no_redis_url_is_none() -> None:
    assert Settings.from_env({**OPENAI, "REDIS_URL": " "}).redis_url is None
    with pytest.raises(ConfigError, match="REDIS_URL"):
        Settings.from_env({**OPENAI, "REDIS_URL": "localhost:6379"})
