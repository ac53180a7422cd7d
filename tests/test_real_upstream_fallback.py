"""A fallback to a real OpenAI-compatible server (llama_cpp.server, tests/test_real_upstream.py)
when the primary is down (issue 27)."""

from __future__ import annotations

import httpx
import pytest

from .helpers import free_port, running, stream
from .test_real_upstream import BODY, LlamaServer, http, llama  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow


def chain(llama: LlamaServer, primary: str) -> dict[str, str]:  # noqa: F811
    return {
        "OPENAI_BASE_URL": primary,
        "OPENAI_API_KEY": "sk-primary",
        "MESSAGEBOT_MODEL": "primary-model",
        "MESSAGEBOT_FALLBACK_1_BASE_URL": f"{llama.url}/v1",
        "MESSAGEBOT_FALLBACK_1_MODEL": llama.model,
        "MESSAGEBOT_UPSTREAM_RETRIES": "0",
        # Two cores shared with the test run: the first prompt takes seconds to read (the last
        # upstream of the chain gets what is left of this deadline).
        "MESSAGEBOT_FIRST_TOKEN_TIMEOUT_S": "120",
        "MESSAGEBOT_GENERATION_TIMEOUT_S": "300",
    }


async def test_a_dead_primary_falls_back_to_the_real_server(
    llama: LlamaServer,  # noqa: F811
    http: httpx.AsyncClient,  # noqa: F811
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    async with running(chain(llama, dead)) as server:
        result = await stream(http, f"{server.url}/v1/messages/stream", {**BODY, "max_length": 120})
        health = (await http.get(f"{server.url}/healthz")).json()
    assert result.status == 200, result.body
    assert result.named("start")[0].data["model"] == llama.model
    done = result.named("done")[0].data
    assert (done["provider"], done["model"]) == ("openai", llama.model)
    assert done["message"] == result.text != ""
    assert health["upstreams"] == [
        {"model": "primary-model", "state": "failing"},
        {"model": llama.model, "state": "ok"},
    ]
