"""`n`'s rule is written once (request.py): what the rate limit spends for a body is the `n`
that validate_fields accepts, and 1 for any `n` it refuses (that request gets its 422)."""

from __future__ import annotations

from typing import Any

import pytest

from messagebot.errors import APIError
from messagebot.request import messages_asked, validate_fields

FIELDS = {"relation": "wife", "reason": "birthday"}


@pytest.mark.parametrize(
    "n", [1, 2, 3, 5, 0, 6, -1, 2.5, 3.0, "3", True, False, None, [3], {"n": 3}, 10**40]
)
def test_the_rate_limit_spends_the_n_that_the_request_is_allowed(n: Any) -> None:
    body = {**FIELDS, "n": n}
    try:
        allowed = validate_fields(body).n
    except APIError as error:
        assert error.fields is not None and set(error.fields) == {"n"}
        allowed = 1
    assert messages_asked(body) == allowed


@pytest.mark.parametrize("body", [{}, FIELDS, [], "n", 3, None])
def test_a_body_without_an_n_spends_one(body: object) -> None:
    assert messages_asked(body) == 1
