"""`n` on the embedded model (issue 25): it writes the messages one after the other, each with
its own seed (llama-cpp-python samples every call alike otherwise), and they differ."""

from __future__ import annotations

from collections import defaultdict

import httpx

from .helpers import running, stream, wait_until

# A set seed, one thread (shared cores): the request's three seeds are then this one and the
# next two, the same on every run; without it they are drawn, and whether the three messages
# differ would be a matter of luck.
LOCAL = {
    "MESSAGEBOT_PROVIDER": "local",
    "MESSAGEBOT_LOCAL_THREADS": "1",
    "MESSAGEBOT_LOCAL_SEED": "7",
}
BODY = {"name": "Minji", "relation": "wife", "reason": "birthday", "max_length": 120, "n": 3}


async def test_three_different_messages_from_the_local_model(client: httpx.AsyncClient) -> None:
    async with running(LOCAL) as server:
        result = await stream(client, f"{server.url}/v1/messages/stream", BODY, timeout=300)
        assert result.status == 200, result.body
        texts: dict[int, str] = defaultdict(str)
        for event in result.named("delta"):
            texts[event.data["index"]] += event.data["text"]
        dones = {e.data["index"]: e.data for e in result.named("done")}
        assert sorted(dones) == [0, 1, 2], result.sequence
        for index, done in dones.items():
            assert done["message"] == texts[index] != ""
            assert done["length"] <= 120
        assert len({done["message"] for done in dones.values()}) == 3
        provider = server.app.extensions["messagebot"].provider
        # Freed once its thread has ended each generation (a moment after the last event).
        await wait_until(lambda: provider.pending == 0, within=10, what="the model free")
