"""A message on the embedded model is as long as it was asked (issue 26: "Long 400" gave 37-64
characters), and the rules that keep a model kept from ending from rambling. The real bundled
Gemma 3 270M, driven through the provider, at a fixed seed and one thread."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from messagebot.providers.local import RAMBLE_CHARS, LocalProvider, _Batch, rambles
from messagebot.request import validate_fields
from messagebot.text.prompts import Prompt, build_prompt

from .helpers import Server, running

LOCAL = {
    "MESSAGEBOT_PROVIDER": "local",
    "MESSAGEBOT_LOCAL_THREADS": "1",
    "MESSAGEBOT_LOCAL_SEED": "5",
}


@pytest.fixture(scope="module")
async def provider() -> AsyncIterator[LocalProvider]:
    served: Server
    async with running(LOCAL) as served:
        yield served.app.extensions["messagebot"].provider


def prompt_for(provider: LocalProvider, **fields: object) -> Prompt:
    body = {"name": "Sophie", "relation": "friend", "reason": "birthday", **fields}
    return build_prompt(validate_fields(body), "en", provider.prompt_style)


async def write(provider: LocalProvider, prompt: Prompt, n: int = 1) -> list[str]:
    generations = await provider.open_many(prompt, n, 5) if n > 1 else [await provider.open(prompt)]
    assert generations is not None
    return ["".join([piece async for piece in g.pieces()]) for g in generations]


async def test_a_long_message_does_not_end_before_half_of_max_length(
    provider: LocalProvider,
) -> None:
    """With every sentence passing its checks, nothing but the floor decides the length: each
    of three messages asked for 400 characters has at least 200 (before: the model ended its
    line near its examples' length, 26-187)."""
    prompt = prompt_for(provider, max_length=400)
    assert prompt.finish_after == 200
    anything = dataclasses.replace(prompt, check=lambda _: 1.0, sentence_check=lambda _: 1.0)
    for message in await write(provider, anything, n=3):
        assert len(message) >= prompt.finish_after, (len(message), message)
        assert "<" not in message and "\n" not in message, message


async def test_a_later_sentence_that_fails_every_try_ends_the_message_before_it(
    provider: LocalProvider,
) -> None:
    """Kept from ending, a tiny model repeats itself or invents: a later sentence that fails
    all its tries is left out (counted), not sent as the best of bad tries."""
    prompt = prompt_for(provider, max_length=400)
    first: list[str] = []

    def only_one_sentence(text: str) -> float:
        sentences = [s for s in text.replace("!", ".").split(".") if s.strip()]
        if not first:
            first.append(text)
        return 1.0 if len(sentences) <= 1 else 0.0

    before = provider.messages_ended_early
    one = dataclasses.replace(prompt, check=only_one_sentence, sentence_check=only_one_sentence)
    (message,) = await write(provider, one)
    assert message == first[0], (message, first)  # the first sentence, and nothing after it
    assert provider.messages_ended_early == before + 1


async def test_control_tokens_never_and_line_ends_only_once_long_enough(
    provider: LocalProvider,
) -> None:
    """What may not come next, on the real vocabulary: Gemma's user-defined and control tokens
    never (its "<start_of_image>" was written out as text), the end of generation and a line
    break not before `finish_after` characters."""
    prompt = prompt_for(provider, max_length=400)
    batch = _Batch(provider, prompt, [], 5)
    llama = provider.llama

    def token(text: str) -> int:
        (only,) = llama.tokenize(text.encode(), add_bos=False, special=True)
        return int(only)

    image, newline, word = token("<start_of_image>"), token("\n"), token(" happy")
    eos = int(llama.token_eos())
    for written in (0, 199, 200, 400):
        assert batch._ends(image, written)
        assert not batch._ends(word, written)
    assert batch._ends(newline, 199) and batch._ends(eos, 199)
    assert not batch._ends(newline, 200) and not batch._ends(eos, 200)


def test_a_sentence_that_runs_on_or_stutters_has_failed() -> None:
    assert rambles("사랑해! 널 널 널 ")
    assert rambles("Lots of love. 🎄🎁" + "🎅🏻" * 5)
    assert rambles("I hope " + "so " * 60 + "much")  # past RAMBLE_CHARS, no full stop
    assert rambles("x" * (RAMBLE_CHARS + 1))
    assert not rambles("Happy birthday, Sophie! I love you so so much.")
    assert not rambles("We had had a long day, had we not")
    assert not rambles("ㅋㅋㅋ 생일 축하해!")
