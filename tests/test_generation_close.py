"""A generation closed in the very step it was opened (before its producer task ever ran, as
`Choices` does with a message asked again once the client has left) still closes its
upstream request and is counted once, as `cancelled`. Against the fake upstream over a real
loopback socket, with the real OpenAI-compatible provider."""

from __future__ import annotations

import asyncio
import itertools

import httpx

from messagebot.config import Settings
from messagebot.fake_upstream import FakeUpstream
from messagebot.generation import GenerationService, Start, Tally
from messagebot.providers import make_provider
from messagebot.request import validate_fields
from messagebot.stats import MemoryStats
from messagebot.text.prompts import build_prompt

from .helpers import fake_log, openai_env, wait_until

_tags = itertools.count()


async def test_a_stream_closed_before_its_producer_ran_closes_its_upstream_request(
    fake: FakeUpstream, client: httpx.AsyncClient
) -> None:
    settings = Settings.from_env(openai_env(fake))
    provider = make_provider(settings)
    await provider.startup()
    try:
        stats = MemoryStats()
        service = GenerationService(provider, settings, stats)
        tag = f"close-at-once-{next(_tags)}"
        request = validate_fields(
            {"relation": "wife", "reason": f"birthday [[fake chunks=300 delay=0.05 tag={tag}]]"}
        )
        prompt = build_prompt(request, "en", provider.prompt_style)
        start = Start(id="msg_test", model=provider.model, provider=provider.name, language="en")
        stream = await service.open_stream(start, prompt, 1000, tally=Tally(service, "anonymous"))
        await stream.aclose()  # no step between: its producer task has not run yet
        assert stream.outcome == "cancelled"
        assert not service.active

        async def closed() -> list[str] | None:
            outcomes = [r["outcome"] for r in await fake_log(client, fake.base_url, tag)]
            return outcomes if outcomes == ["client_closed"] else None

        await wait_until(closed, within=12, what="the upstream request closed")
        await asyncio.gather(stream.aclose(), stream.aclose())  # again: no-ops, counted once
        assert (await stats.snapshot())["by_outcome"] == {"cancelled": 1}
    finally:
        await provider.shutdown()
