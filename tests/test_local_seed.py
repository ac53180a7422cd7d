"""A new request to the embedded model writes a new message ("Write another", issue 25), unless
the operator fixed MESSAGEBOT_LOCAL_SEED for reproducible runs. The real bundled model: slow."""

from __future__ import annotations

import httpx

from .helpers import running

LOCAL = {"MESSAGEBOT_PROVIDER": "local", "MESSAGEBOT_LOCAL_THREADS": "1"}
# An occasion on which the first candidate often fails its checks, so best-of-three sets seeds:
# before the fix every later request then began from the same seed, and wrote the same text.
BODY = {"name": "Mrs. Lee", "relation": "neighbour", "reason": "condolences", "max_length": 120}


async def _four(env: dict[str, str], client: httpx.AsyncClient) -> list[str]:
    async with running(env) as server:
        messages = []
        for _ in range(4):
            response = await client.post(f"{server.url}/v1/messages", json=BODY, timeout=120)
            assert response.status_code == 200, response.text
            messages.append(response.json()["message"])
        return messages


async def test_the_same_request_again_writes_a_new_message(client: httpx.AsyncClient) -> None:
    messages = await _four(LOCAL, client)
    # The tiny model at t=0.3 may repeat itself now and then (3 of 18 "Write another" in a
    # trial); three times in a row it does not, where before the fix it always did.
    assert len(set(messages[1:])) >= 2, messages


async def test_a_set_seed_writes_the_same_message_every_time(client: httpx.AsyncClient) -> None:
    messages = await _four({**LOCAL, "MESSAGEBOT_LOCAL_SEED": "7"}, client)
    assert len(set(messages)) == 1, messages
