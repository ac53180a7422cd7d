"""`n` messages and the heartbeat (issue 25): while the client is sent nothing, a `: ping`
comes every MESSAGEBOT_HEARTBEAT_S, even when the upstream keeps writing text that cannot go
out yet (a message held back while it could still turn out the same as another). Real
loopback sockets, the fake upstream honouring `n` with scripted replies."""

from __future__ import annotations

import itertools
import time
import uuid

import httpx

from messagebot.fake_upstream import FakeUpstream

from .helpers import openai_env, running

HEARTBEAT_S = 1.0
# Message 0 comes whole at once; 1 and 2, a character a chunk, are the start of it all along,
# so they are held back until their ends (the one event of each comes at the very end).
TEXTS = ["Happy birthday to you, dear friend.", "Happy birthday to you", "Happy birthday"]


async def test_pings_keep_their_period_while_messages_are_held_back(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    key = f"held-{uuid.uuid4().hex[:8]}"
    variants = [[TEXTS[0]], list(TEXTS[1]), list(TEXTS[2])]
    await client.post(
        fake.base_url.removesuffix("/v1") + "/_fake/replies",
        json={"key": key, "variants": variants},
    )
    pieces = sum(len(v) for v in variants)  # 36, one every 0.15 s: about 5.4 s of silence
    env = openai_env(fake, MESSAGEBOT_HEARTBEAT_S=str(HEARTBEAT_S))
    async with running(env) as server:
        body = {
            "relation": "friend",
            "reason": f"birthday [[fake n=honour reply={key} delay={0.15 * 3}]]",
            "n": 3,
        }
        lines: list[tuple[float, str]] = []
        async with client.stream(
            "POST", f"{server.url}/v1/messages/stream", json=body, timeout=30
        ) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line:
                    lines.append((time.monotonic(), line))
    assert pieces * 0.15 > 4 * HEARTBEAT_S
    dones = [line for _, line in lines if line.startswith("event: done")]
    assert len(dones) == 3, lines
    pings = [at for at, line in lines if line.startswith(": ping")]
    assert len(pings) >= 3, f"{len(pings)} pings in {lines[-1][0] - lines[0][0]:.1f} s"
    # Nothing sent for longer than a heartbeat (and some slack for a busy machine).
    times = [at for at, _ in lines]
    longest = max(b - a for a, b in itertools.pairwise(times))
    assert longest < HEARTBEAT_S + 0.4, f"{longest:.2f} s without a byte"
