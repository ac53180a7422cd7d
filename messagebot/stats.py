"""Usage counters for GET /v1/stats: messages generated, by provider and by outcome."""

from __future__ import annotations

from collections import Counter
from typing import Any


class MemoryStats:
    """Counters of one process. Outcomes: stop, length, cancelled, or an error code."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()

    async def record(self, provider: str, outcome: str) -> None:
        self._counts[(provider, outcome)] += 1

    async def snapshot(self) -> dict[str, Any]:
        by_provider: Counter[str] = Counter()
        by_outcome: Counter[str] = Counter()
        for (provider, outcome), count in self._counts.items():
            by_provider[provider] += count
            by_outcome[outcome] += count
        generated = by_outcome["stop"] + by_outcome["length"]
        return {
            "messages_generated": generated,
            "requests": sum(by_outcome.values()),
            "by_provider": dict(by_provider),
            "by_outcome": dict(by_outcome),
            "scope": "process",
        }
