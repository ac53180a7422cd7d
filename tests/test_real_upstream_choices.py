"""`n` = 2 through a real llama_cpp.server, which ignores `n` in a request (it writes one
choice, index 0): the missing index is asked for on its own, with its own seed, both arrive
whole under their index, different, and the service remembers (issue 25)."""

from __future__ import annotations

from collections import defaultdict

import httpx
import pytest

from .helpers import Server, stream
from .test_real_upstream import BODY, bot, http, llama  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow


async def test_n_through_the_real_server(bot: Server, http: httpx.AsyncClient) -> None:  # noqa: F811
    result = await stream(
        http, f"{bot.url}/v1/messages/stream", {**BODY, "max_length": 120, "n": 2}
    )
    assert result.status == 200, result.body
    assert result.named("start")[0].data["n"] == 2
    texts: dict[int, str] = defaultdict(str)
    for event in result.named("delta"):
        texts[event.data["index"]] += event.data["text"]
    dones = {e.data["index"]: e.data for e in result.named("done")}
    assert sorted(dones) == [0, 1], result.sequence
    for index, done in dones.items():
        assert done["message"] == texts[index] != ""
        assert done["length"] == len(done["message"]) <= 120
    assert dones[0]["message"] != dones[1]["message"]
    # Asked with n = 2, it wrote index 0 only: index 1 was asked on its own, and the service
    # now asks for each message on its own from the start.
    assert bot.app.extensions["messagebot"].provider.honours_n is False
