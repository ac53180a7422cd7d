"""MESSAGEBOT_LOCAL_SEED makes the embedded model reproducible: every request starts from it
(before, a best-of-three request moved the seed on for every later one), and the examples'
draw with it. That a new request without it writes a new message: test_local_controls.py.
The real bundled model: slow."""

from __future__ import annotations

import httpx

from .helpers import running

LOCAL = {"MESSAGEBOT_PROVIDER": "local", "MESSAGEBOT_LOCAL_THREADS": "1"}
# An occasion on which the first candidate often fails its checks, so best-of-three sets seeds.
BODY = {"name": "Mrs. Lee", "relation": "neighbour", "reason": "condolences", "max_length": 120}


async def _four(env: dict[str, str], client: httpx.AsyncClient) -> list[str]:
    async with running(env) as server:
        messages = []
        for _ in range(4):
            response = await client.post(f"{server.url}/v1/messages", json=BODY, timeout=120)
            assert response.status_code == 200, response.text
            messages.append(response.json()["message"])
        return messages


async def test_a_set_seed_writes_the_same_message_every_time(client: httpx.AsyncClient) -> None:
    messages = await _four({**LOCAL, "MESSAGEBOT_LOCAL_SEED": "7"}, client)
    assert len(set(messages)) == 1, messages
