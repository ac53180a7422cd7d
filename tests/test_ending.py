"""The local provider ends a message at its first sentence end past a share of the limit, and
keeps the best of a few candidates (issue 17). No model needed: a fake stands in for llama."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

from messagebot.providers.local import Ending, LocalGeneration
from messagebot.text.prompts import Prompt


def feed(ending: Ending, pieces: list[str]) -> str:
    for piece in pieces:
        if ending.done_before(piece):
            break
    return ending.text


def test_stops_at_the_first_sentence_end_past_the_share() -> None:
    pieces = ["Minji", ",", " happy", " birthday", "!", " I", " love", " you", ".", " See", " you"]
    # Past 10 characters, "…birthday!" is the first sentence end; the space after it ends it.
    assert feed(Ending(10, 200), pieces) == "Minji, happy birthday!"
    # Past 30, the next one.
    assert feed(Ending(30, 200), pieces) == "Minji, happy birthday! I love you."
    # Off: everything.
    assert feed(Ending(0, 0), pieces) == "".join(pieces)


def test_abbreviations_and_numbers_end_no_sentence() -> None:
    assert feed(Ending(1, 200), ["Dear", " Mr", ".", " Park", ",", " hi", "!", " more"]) == (
        "Dear Mr. Park, hi!"
    )
    assert feed(Ending(1, 200), ["Version", " 2", ".", "5", " is", " out", ".", " Yes"]) == (
        "Version 2.5 is out."
    )


def test_korean_sentences_and_the_hard_stop() -> None:
    pieces = ["지영아", ",", " 생일", " 축하해", "!", " 올해도", " 행복해", "~", " 또"]
    assert feed(Ending(8, 100), pieces) == "지영아, 생일 축하해!"
    # Far past max_chars with no sentence end: stopped, and the service's length rule cuts.
    long = ["word "] * 100
    assert len(feed(Ending(0, 40), long)) <= 40 + 20 + len("word ")


class _FakeStream:
    def __init__(self, pieces: list[str]) -> None:
        self._pieces = iter(pieces)

    def __iter__(self) -> _FakeStream:
        return self

    def __next__(self) -> dict[str, Any]:
        return {"choices": [{"text": next(self._pieces)}]}

    def close(self) -> None:
        pass


# A request's first candidate takes its seed; later ones seed × 97 + k, apart from the
# series of the request's other messages (seed + index).
SECOND, THIRD = 7 * 97 + 1, 7 * 97 + 2


class _FakeLlama:
    """Writes a different candidate for each seed, as llama-cpp-python does."""

    n_tokens = 10

    def __init__(self) -> None:
        self.seeds: list[int | None] = []

    def create_completion(self, prompt: str, seed: int | None = None, **_: Any) -> _FakeStream:
        self.seeds.append(seed)
        texts = {7: ["Bad", " one"], SECOND: ["Still", " bad"], THIRD: ["Good", " one", "."]}
        return _FakeStream(texts.get(seed, ["Other"]))


async def _run(prompt: Prompt) -> tuple[str, Any]:
    provider = SimpleNamespace(
        llama=_FakeLlama(),
        executor=ThreadPoolExecutor(max_workers=1),
        request_seed=lambda: 7,  # as with MESSAGEBOT_LOCAL_SEED=7
        judged=0,
        extra_candidates=0,
        stopped_early=0,
        finished=lambda _: None,
    )
    generation = LocalGeneration(provider, prompt)  # type: ignore[arg-type]
    text = "".join([piece async for piece in generation.pieces()])
    provider.executor.shutdown()
    return text, provider


async def test_best_of_n_keeps_the_first_candidate_that_passes() -> None:
    def check(text: str) -> float:
        return 1.0 if text.startswith("Good") else 0.5 if text.startswith("Still") else 0.0

    text, provider = await _run(Prompt(max_tokens=9, text="x", candidates=3, check=check))
    assert text == "Good one."
    assert provider.llama.seeds == [7, SECOND, THIRD]
    assert (provider.judged, provider.extra_candidates) == (1, 2)


async def test_best_of_n_otherwise_keeps_the_best() -> None:
    def check(text: str) -> float:
        return 0.5 if text.startswith("Still") else 0.0

    text, provider = await _run(Prompt(max_tokens=9, text="x", candidates=2, check=check))
    assert text == "Still bad"
    text, provider = await _run(Prompt(max_tokens=9, text="x"))  # no check: one, streamed
    assert text == "Bad one" and provider.llama.seeds == [7]
