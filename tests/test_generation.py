"""How a generation's pieces become events: coalescing under load, and heartbeats.

These drive `GenerationService` and `MessageStream` in-process with a scripted provider (a real
implementation of the provider interface that yields fixed pieces at fixed times), so that the
timing of pieces is exact; the same code under real sockets is covered by test_api.py and
test_stream_faults.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from messagebot.config import Settings
from messagebot.generation import HEARTBEAT, Delta, Done, GenerationService
from messagebot.request import validate_fields
from messagebot.stats import MemoryStats
from messagebot.text.prompts import Prompt, PromptStyle

SETTINGS = Settings(provider="openai", openai_base_url="http://127.0.0.1:1/v1")
REQUEST = validate_fields({"name": "Minji", "relation": "wife", "reason": "birthday"})


class ScriptedGeneration:
    def __init__(self, script: list[tuple[float, str]]) -> None:
        self.script = script
        self.usage: dict[str, Any] | None = None

    async def pieces(self) -> AsyncIterator[str]:
        for delay, text in self.script:
            await asyncio.sleep(delay)
            yield text

    async def aclose(self) -> None:
        pass


class ScriptedProvider:
    name = "scripted"
    model = "scripted"
    prompt_style: PromptStyle = "chat"
    languages: frozenset[str] | None = None

    def __init__(self, script: list[tuple[float, str]]) -> None:
        self.script = script

    async def startup(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def open(self, prompt: Prompt) -> ScriptedGeneration:
        return ScriptedGeneration(self.script)


WORDS = [f"word{i} " for i in range(20)]


async def read(
    script: list[tuple[float, str]],
    *,
    open_streams: int = 1,
    heartbeat: float | None = None,
    **settings: Any,
) -> list[Any]:
    """Every event of one generation, while `open_streams` streams are open in all."""
    service = GenerationService(
        ScriptedProvider(script), replace(SETTINGS, **settings), MemoryStats()
    )
    others = [object() for _ in range(open_streams - 1)]
    service.active.update(others)  # type: ignore[arg-type]  # stand-ins for other streams
    stream = await service.begin(REQUEST, "en")
    events = [item async for item in stream.events(heartbeat, coalesce=True)]
    service.active.difference_update(others)  # type: ignore[arg-type]
    assert not service.active
    return events


def deltas(events: list[Any]) -> list[str]:
    return [item.text for item in events if isinstance(item, Delta)]


async def test_with_few_streams_every_piece_goes_out_as_it_comes() -> None:
    events = await read([(0.02, word) for word in WORDS], open_streams=3)
    assert isinstance(events[-1], Done)
    assert "".join(deltas(events)) == events[-1].message
    # 20 ms apart and no flush interval to speak of: nearly every piece is its own event
    # (a busy machine may now and then deliver two together).
    assert len(deltas(events)) >= 16


async def test_under_load_pieces_are_gathered_but_the_first_goes_at_once() -> None:
    events = await read([(0.01, word) for word in WORDS], open_streams=200)
    sent = deltas(events)
    assert isinstance(events[-1], Done)
    assert "".join(sent) == events[-1].message == "".join(WORDS).strip()
    assert sent[0] == "word0"  # not held back for the second piece, 10 ms later
    # 200 streams: a 50 ms flush interval over pieces 10 ms apart, about 5 per event.
    assert len(sent) <= 8, sent


async def test_flush_interval_zero_sends_every_piece_even_under_load() -> None:
    events = await read([(0.02, word) for word in WORDS], open_streams=200, max_flush_s=0.0)
    assert len(deltas(events)) >= 16


async def test_heartbeats_fill_silences_only() -> None:
    script = [(0.0, "Happy "), (0.45, "birthday, "), *[(0.01, w) for w in WORDS[:10]]]
    events = await read(script, heartbeat=0.1)
    first, second = [i for i, item in enumerate(events) if isinstance(item, Delta)][:2]
    pings_in_silence = events[first + 1 : second].count(HEARTBEAT)
    assert 3 <= pings_in_silence <= 5  # 0.45 s without text, a heartbeat every 0.1 s
    assert HEARTBEAT not in events[second:]  # none while text flows
