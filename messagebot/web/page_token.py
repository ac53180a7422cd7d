"""The form page's short-lived signed token, which the API accepts in place of an API key."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeTimedSerializer

# A salt of its own, so no other value signed with the same secret (a session cookie, say)
# passes for a page token.
_SALT = "messagebot.page-token"
# A real token is about 60 characters; anything much longer is not worth checking.
_MAX_TOKEN_CHARS = 200


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    if not secret_key:
        raise ValueError("a page token needs a non-empty secret key")
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def issue_page_token(secret_key: str) -> str:
    """A token, signed with `secret_key` and stamped with the time, for one page view."""
    return _serializer(secret_key).dumps("page")


def verify_page_token(secret_key: str, token: str, max_age_s: int = 3600) -> bool:
    """Whether `token` was issued with `secret_key` at most `max_age_s` seconds ago."""
    if not secret_key or not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS:
        return False
    try:
        payload = _serializer(secret_key).loads(token, max_age=max_age_s)
    except BadSignature:  # also SignatureExpired and BadPayload
        return False
    return bool(payload == "page")
