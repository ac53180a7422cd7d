"""MESSAGEBOT_API_KEYS takes `NAME:KEY` as well as `KEY` (issue 27), strictly: an entry that is
not clearly one of the two stops the start with a message that names the variable and the
entry's position, and never shows a key."""

from __future__ import annotations

import pytest

from messagebot.config import ConfigError, Settings, key_fingerprint

from .test_cli import run_cli

OPENAI = {"OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}
SECRET = "sk-live-0123456789abcdef"


def keys(value: str) -> Settings:
    return Settings.from_env({**OPENAI, "MESSAGEBOT_API_KEYS": value})


def test_names_and_bare_keys_together() -> None:
    settings = keys(f" ios:{SECRET} , android : k2,{SECRET}x ,, ")
    assert settings.api_keys == (SECRET, "k2", SECRET + "x")
    assert settings.api_key_names == ("ios", "android", key_fingerprint(SECRET + "x"))
    fingerprint = key_fingerprint(SECRET + "x")
    assert fingerprint.startswith("key-") and len(fingerprint) == 12
    assert SECRET not in fingerprint
    # A key may hold a colon after its name: only the first one separates.
    assert keys("web:a:b").api_keys == ("a:b",)
    assert keys("").api_keys == () and keys("").api_key_names == ()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (f":{SECRET}", "entry 1 of 1 has ':' but no name"),
        (f"ios:{SECRET},android:", "entry 2 of 2 has a name but no key"),
        (f"i os:{SECRET}", "entry 1 of 1: a key's name is 1 to 40 letters"),
        (f"ios/1:{SECRET}", "a key's name is 1 to 40 letters"),
        (f"아이폰:{SECRET}", "a key's name is 1 to 40 letters"),
        ("x" * 41 + f":{SECRET}", "a key's name is 1 to 40 letters"),
        (f"ios:{SECRET},ios:other", "entry 2 of 2 repeats the name of entry 1"),
        (f"ios:{SECRET},android:{SECRET}", "entry 2 of 2 repeats the key of entry 1"),
        (f"{SECRET},{SECRET}", "entry 2 of 2 repeats the key of entry 1"),
        # A name that is a bare key's fingerprint would count two clients as one.
        (f"{SECRET},{key_fingerprint(SECRET)}:other", "repeats the name of entry 1"),
        (f"page:{SECRET}", "reserved"),
        (f"anonymous:{SECRET}", "reserved"),
    ],
)
def test_a_malformed_entry_stops_the_start_without_showing_a_key(value: str, says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        keys(value)
    message = str(raised.value)
    assert message.startswith("MESSAGEBOT_API_KEYS"), message
    assert says in message, message
    assert SECRET not in message and "other" not in message, message


async def test_serve_says_so_without_a_traceback_or_the_key() -> None:
    env = {**OPENAI, "MESSAGEBOT_API_KEYS": f"ios:{SECRET},android:{SECRET}"}
    _, err = await run_cli("serve", env=env, expect=2)
    assert "messagebot: configuration error: MESSAGEBOT_API_KEYS" in err
    assert "Traceback" not in err and SECRET not in err
