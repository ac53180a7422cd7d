"""A configuration error names the variable, never a value that may hold a secret (a review
found a fallback's mistyped base URL, which can carry credentials, printed whole)."""

from __future__ import annotations

import pytest

from messagebot.config import ConfigError, Settings

OPENAI = {"OPENAI_API_KEY": "sk-primary"}


@pytest.mark.parametrize(
    "url",
    [
        "https://user:s3cret-pass word@api.example.com/v1",
        "http:/api.example.com/v1?api-key=s3cret-pass",
        "ftp://user:s3cret-pass@example.com",
    ],
)
def test_a_bad_fallback_url_is_not_printed(url: str) -> None:
    env = {
        **OPENAI,
        "MESSAGEBOT_FALLBACK_1_BASE_URL": url,
        "MESSAGEBOT_FALLBACK_1_MODEL": "m",
    }
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert "MESSAGEBOT_FALLBACK_1_BASE_URL" in str(raised.value)
    assert "s3cret" not in str(raised.value)
