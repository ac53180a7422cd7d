"""The form page's signed token: issued for one secret, good for a while, and for nothing else."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer

from messagebot.web.page_token import issue_page_token, verify_page_token

SECRET = "s3cret-for-tests"


def test_a_fresh_token_verifies() -> None:
    token = issue_page_token(SECRET)
    assert verify_page_token(SECRET, token)
    assert token.isascii() and len(token) < 100  # fits a header and a meta tag


def test_tokens_differ_between_secrets() -> None:
    assert not verify_page_token("another secret", issue_page_token(SECRET))


def test_a_token_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_page_token(SECRET)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 3599)
    assert verify_page_token(SECRET, token)
    monkeypatch.setattr(time, "time", lambda: now + 3602)
    assert not verify_page_token(SECRET, token)
    assert verify_page_token(SECRET, token, max_age_s=7200)


def test_a_tampered_token_fails() -> None:
    token = issue_page_token(SECRET)
    # Every character of the payload, the timestamp and the signature counts (the signature's
    # last one may only carry base64 padding bits, so it is left alone).
    for at in range(len(token) - 1):
        if token[at] != ".":
            changed = "A" if token[at] != "A" else "B"
            assert not verify_page_token(SECRET, token[:at] + changed + token[at + 1 :]), at
    assert not verify_page_token(SECRET, "x" + token)


def test_a_value_signed_for_something_else_is_no_token() -> None:
    # Same secret, same payload, but no page-token salt (as a session cookie would be signed).
    assert not verify_page_token(SECRET, URLSafeTimedSerializer(SECRET).dumps("page"))
    other = URLSafeTimedSerializer(SECRET, salt="messagebot.page-token").dumps({"admin": True})
    assert not verify_page_token(SECRET, other)


@pytest.mark.parametrize(
    "garbage",
    ["", ".", "..", "a.b.c", "not a token", "é.ü.ß", "\x00", "x" * 10_000, "page.AAAA.BBBB"],
)
def test_garbage_is_refused_quietly(garbage: str) -> None:
    assert not verify_page_token(SECRET, garbage)


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        issue_page_token("")
    assert not verify_page_token("", issue_page_token(SECRET))
