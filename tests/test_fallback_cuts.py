"""The fallback chain re-emits the first piece it read and then the rest (providers/fallback.py):
property tests over random texts, random cuts on the wire and random truncations, against the
same reply served without fallbacks (real sockets both ways)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messagebot.fake_upstream import FakeUpstream

from .helpers import Server, StreamResult, running, stream
from .raw_upstream import SSE_HEAD, RawUpstream, event, raw_upstream

BODY = {"relation": "wife", "reason": "birthday", "max_length": 1000}
_keys = itertools.count()


@pytest.fixture(scope="module")
async def upstream() -> AsyncIterator[RawUpstream]:
    async with raw_upstream(pause=0) as raw:
        yield raw


@pytest.fixture(scope="module")
async def servers(
    upstream: RawUpstream, fake: FakeUpstream
) -> AsyncIterator[tuple[Server, Server]]:
    """(without fallbacks, with the fake as fallback 1), both with `upstream` as primary."""
    chain = {
        "MESSAGEBOT_FALLBACK_1_BASE_URL": fake.base_url,
        "MESSAGEBOT_FALLBACK_1_MODEL": "fallback-model",
        "MESSAGEBOT_UPSTREAM_RETRIES": "0",
        # Examples cut before any text fail the primary: its breaker must not skip it for the
        # next ones (this test is about the stream, tests/test_fallback.py about the breaker).
        "MESSAGEBOT_BREAKER_FAILURES": "100",
        "MESSAGEBOT_BREAKER_COOLDOWN_S": "0.001",
    }
    async with (
        running(upstream.env(MESSAGEBOT_UPSTREAM_RETRIES="0")) as plain,
        running(upstream.env(**chain)) as with_fallback,
    ):
        yield plain, with_fallback


def cut_at(body: bytes, points: list[int]) -> list[bytes]:
    ends = [0, *sorted(set(points)), len(body)]
    return [body[a:b] for a, b in itertools.pairwise(ends) if a < b]


def seen(result: StreamResult) -> list[tuple[str | None, Any]]:
    """What a client saw, without the ids (each server makes its own)."""
    out = []
    for item in result.events:
        data = {k: v for k, v in (item.data or {}).items() if k != "id"}
        out.append((item.event, data))
    return out


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_the_chain_passes_on_what_the_primary_writes_however_it_is_cut(
    upstream: RawUpstream, servers: tuple[Server, Server], data: st.DataObject
) -> None:
    pieces = data.draw(
        st.lists(st.text(alphabet="ab ,.!가나\n", min_size=1, max_size=6), min_size=1, max_size=8),
        "pieces",
    )
    truncate = data.draw(st.none() | st.integers(0, len(pieces) - 1), "truncated after")
    if truncate is None:
        body = (
            b"".join(event(p) for p in pieces) + event(finish_reason="stop") + b"data: [DONE]\n\n"
        )
    else:
        body = b"".join(event(p) for p in pieces[:truncate])  # the connection closes: cut
    points = data.draw(st.lists(st.integers(1, max(1, len(body) - 1)), max_size=8), "cuts")
    key = f"c{next(_keys)}"
    upstream.replies[key] = [SSE_HEAD, *cut_at(body, points)]
    request = {**BODY, "reason": f"birthday [[raw {key}]] [[fake tag=cuts]]"}
    plain, with_fallback = servers
    async with httpx.AsyncClient(timeout=30) as client:
        alone = await stream(client, f"{plain.url}/v1/messages/stream", request)
        chained = await stream(client, f"{with_fallback.url}/v1/messages/stream", request)
    if truncate == 0:
        # Cut before any text: the plain server could only say so (after its `start`); the
        # chain asked the next upstream, and `start` names that one.
        assert alone.sequence == ["start", "error"]
        assert alone.named("error")[0].data["code"] == "upstream_error"
        assert chained.status == 200
        assert chained.named("start")[0].data["model"] == "fallback-model"
        assert chained.named("done")[0].data["model"] == "fallback-model"
        return
    assert alone.status == chained.status == 200
    assert seen(chained) == seen(alone)
    assert chained.named("start")[0].data["model"] == "raw-model"
