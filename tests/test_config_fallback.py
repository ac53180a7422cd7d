"""Fallback settings (issue 27) are parsed strictly: each mistake stops the start with a
message naming the variable, in Settings and in `messagebot serve`."""

from __future__ import annotations

import pytest

from messagebot.config import ConfigError, Fallback, Settings

from .test_cli import run_cli

OPENAI = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
F1 = {
    "MESSAGEBOT_FALLBACK_1_BASE_URL": "http://127.0.0.1:10/v1",
    "MESSAGEBOT_FALLBACK_1_MODEL": "m1",
}

BAD = [
    # (the variable the message must name, the environment)
    ("MESSAGEBOT_FALLBACK_1_MODEL", {"MESSAGEBOT_FALLBACK_1_BASE_URL": "http://h/v1"}),
    ("MESSAGEBOT_FALLBACK_1_API_KEY", {"MESSAGEBOT_FALLBACK_1_API_KEY": "sk-x"}),
    ("MESSAGEBOT_FALLBACK_1_MODEL", {"MESSAGEBOT_FALLBACK_1_MODEL": "m"}),
    ("MESSAGEBOT_FALLBACK_0_BASE_URL", {"MESSAGEBOT_FALLBACK_0_BASE_URL": "http://h/v1"}),
    ("MESSAGEBOT_FALLBACK_4_BASE_URL", {**F1, "MESSAGEBOT_FALLBACK_4_BASE_URL": "http://h/v1"}),
    ("MESSAGEBOT_FALLBACK_X_MODEL", {**F1, "MESSAGEBOT_FALLBACK_X_MODEL": "m"}),
    ("MESSAGEBOT_FALLBACK_1_URL", {"MESSAGEBOT_FALLBACK_1_URL": "http://h/v1"}),
    ("MESSAGEBOT_FALLBACK_01_BASE_URL", {**F1, "MESSAGEBOT_FALLBACK_01_BASE_URL": "http://h"}),
    (
        "MESSAGEBOT_FALLBACK_2_BASE_URL",
        {"MESSAGEBOT_FALLBACK_2_BASE_URL": "http://h/v1", "MESSAGEBOT_FALLBACK_2_MODEL": "m"},
    ),
    (
        "MESSAGEBOT_FALLBACK_3_BASE_URL",
        {**F1, "MESSAGEBOT_FALLBACK_3_BASE_URL": "http://h/v1", "MESSAGEBOT_FALLBACK_3_MODEL": "m"},
    ),
    (
        "MESSAGEBOT_FALLBACK_1_BASE_URL",
        {"MESSAGEBOT_FALLBACK_1_BASE_URL": "h:8000/v1", "MESSAGEBOT_FALLBACK_1_MODEL": "m"},
    ),
    (
        "MESSAGEBOT_FALLBACK_1_API_KEY",
        {"MESSAGEBOT_FALLBACK_1_BASE_URL": "local", "MESSAGEBOT_FALLBACK_1_API_KEY": "k"},
    ),
    (
        "MESSAGEBOT_FALLBACK_1_MODEL",
        {"MESSAGEBOT_FALLBACK_1_BASE_URL": "local", "MESSAGEBOT_FALLBACK_1_MODEL": "m"},
    ),
    (
        "MESSAGEBOT_FALLBACK_2_BASE_URL",
        {
            "MESSAGEBOT_FALLBACK_1_BASE_URL": "local",
            "MESSAGEBOT_FALLBACK_2_BASE_URL": "local",
        },
    ),
    ("MESSAGEBOT_ATTEMPT_TIMEOUT_S", {"MESSAGEBOT_ATTEMPT_TIMEOUT_S": "soon"}),
    ("MESSAGEBOT_ATTEMPT_TIMEOUT_S", {"MESSAGEBOT_ATTEMPT_TIMEOUT_S": "0"}),
    ("MESSAGEBOT_BREAKER_FAILURES", {"MESSAGEBOT_BREAKER_FAILURES": "0"}),
    ("MESSAGEBOT_BREAKER_FAILURES", {"MESSAGEBOT_BREAKER_FAILURES": "three"}),
    ("MESSAGEBOT_BREAKER_COOLDOWN_S", {"MESSAGEBOT_BREAKER_COOLDOWN_S": "-1"}),
    # An attempt as long as the whole deadline: no fallback would ever be asked in time.
    (
        "MESSAGEBOT_ATTEMPT_TIMEOUT_S.*MESSAGEBOT_FIRST_TOKEN_TIMEOUT_S",
        {**F1, "MESSAGEBOT_ATTEMPT_TIMEOUT_S": "30"},
    ),
    (
        "MESSAGEBOT_ATTEMPT_TIMEOUT_S.*MESSAGEBOT_FIRST_TOKEN_TIMEOUT_S",
        {**F1, "MESSAGEBOT_ATTEMPT_TIMEOUT_S": "5", "MESSAGEBOT_FIRST_TOKEN_TIMEOUT_S": "4"},
    ),
]


@pytest.mark.parametrize(("name", "env"), BAD, ids=[f"{n}-{i}" for i, (n, _) in enumerate(BAD)])
def test_a_bad_fallback_setting_names_its_variable(name: str, env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**OPENAI, **env})


def test_a_local_fallback_behind_a_local_primary_is_refused() -> None:
    with pytest.raises(ConfigError, match="MESSAGEBOT_FALLBACK_1_BASE_URL"):
        Settings.from_env({"MESSAGEBOT_FALLBACK_1_BASE_URL": "local"})


def test_fallbacks_are_read_in_order_with_their_keys_out_of_repr() -> None:
    settings = Settings.from_env(
        {
            **OPENAI,
            **F1,
            "MESSAGEBOT_FALLBACK_1_API_KEY": "sk-one",
            "MESSAGEBOT_FALLBACK_2_BASE_URL": "LOCAL",
            "MESSAGEBOT_ATTEMPT_TIMEOUT_S": "2.5",
            "MESSAGEBOT_BREAKER_FAILURES": "5",
            "MESSAGEBOT_BREAKER_COOLDOWN_S": "60",
        }
    )
    assert settings.fallbacks == (
        Fallback(1, "http://127.0.0.1:10/v1", "m1", "sk-one"),
        Fallback(2, "local", "", None),
    )
    assert "sk-one" not in repr(settings)
    assert (settings.attempt_timeout_s, settings.breaker_failures) == (2.5, 5)
    assert settings.breaker_cooldown_s == 60


def test_an_attempt_timeout_at_least_the_deadline_is_fine_without_fallbacks() -> None:
    settings = Settings.from_env({**OPENAI, "MESSAGEBOT_ATTEMPT_TIMEOUT_S": "60"})
    assert settings.attempt_timeout_s == 60


def test_the_defaults() -> None:
    settings = Settings.from_env(OPENAI)
    assert settings.fallbacks == ()
    assert settings.attempt_timeout_s == 10
    assert (settings.breaker_failures, settings.breaker_cooldown_s) == (3, 30)


async def test_messagebot_serve_stops_with_the_variables_name() -> None:
    env = {**OPENAI, "MESSAGEBOT_FALLBACK_4_BASE_URL": "http://h/v1"}
    _, err = await run_cli("serve", env=env, expect=2)
    assert "MESSAGEBOT_FALLBACK_4_BASE_URL" in err
    assert "Traceback" not in err
