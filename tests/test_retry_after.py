"""An upstream's Retry-After, whatever it says, becomes `503 busy` with a sane Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from .helpers import Server

# What the service says when the upstream's own value is unusable, and the most it ever says.
DEFAULT_RETRY_AFTER = 5
MAX_RETRY_AFTER = 600

BODY = {"relation": "wife", "reason": "birthday"}
POSTS = ["/v1/messages", "/v1/messages/stream", "/streaming/"]


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        ("inf", DEFAULT_RETRY_AFTER),
        ("-inf", DEFAULT_RETRY_AFTER),
        ("nan", DEFAULT_RETRY_AFTER),
        ("1e400", DEFAULT_RETRY_AFTER),
        ("-5", DEFAULT_RETRY_AFTER),
        ("garbage", DEFAULT_RETRY_AFTER),
        ("0x10", DEFAULT_RETRY_AFTER),
        ("0", 1),
        ("1.2", 2),
        ("30", 30),
        ("99999999999999999999999", MAX_RETRY_AFTER),
    ],
)
@pytest.mark.parametrize("path", POSTS)
async def test_any_upstream_retry_after_is_busy_with_a_sane_one(
    server: Server, client: httpx.AsyncClient, path: str, sent: str, expected: int
) -> None:
    body = {**BODY, "reason": f"birthday [[fake status=429 retry_after={sent}]]"}
    response = await client.post(f"{server.url}{path}", json=body)
    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "busy"
    assert response.headers["retry-after"] == str(expected)


async def test_a_missing_retry_after_gets_the_default(
    server: Server, client: httpx.AsyncClient
) -> None:
    body = {**BODY, "reason": "birthday [[fake status=429]]"}
    response = await client.post(f"{server.url}/v1/messages", json=body)
    assert response.status_code == 503
    assert response.headers["retry-after"] == str(DEFAULT_RETRY_AFTER)


def test_parse_retry_after() -> None:
    """RFC 9110's two forms (delay-seconds, HTTP-date), clamped to 1..MAX_RETRY_AFTER; a
    decimal is rounded up; anything else (a sign, an exponent, inf, nan) gets the default."""
    from messagebot.providers import openai

    assert (openai.DEFAULT_RETRY_AFTER, openai.MAX_RETRY_AFTER) == (5, 600)
    parse_retry_after = openai.parse_retry_after
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    in_a_minute = format_datetime(now + timedelta(seconds=60), usegmt=True)
    assert parse_retry_after(in_a_minute, now=now) == 60
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now=now) == 1
    assert parse_retry_after(format_datetime(now + timedelta(days=9), usegmt=True), now=now) == (
        MAX_RETRY_AFTER
    )
    assert parse_retry_after(" 7 ") == 7
    assert parse_retry_after("7.01") == 8
    assert parse_retry_after(str(10**400)) == MAX_RETRY_AFTER
    for junk in (
        None,
        "",
        "inf",
        "Infinity",
        "NaN",
        "1e3",
        "1e400",
        "+5",
        "-1",
        "5 s",
        "1_000",
        "٣",  # an Arabic-Indic digit: float() takes it, HTTP does not
        "Mon, 99 Foo 2026 00:00:00 GMT",
        "x" * 10_000,
    ):
        assert parse_retry_after(junk) == DEFAULT_RETRY_AFTER, junk
