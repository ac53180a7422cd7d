"""What the text pipeline costs per piece of a reply: the cleanup alone, and the cleanup with
the length limit as generation.py runs them, in-process, on one core.

    python bench/cleanup.py                        # this checkout
    PYTHONPATH=/path/to/other/checkout python bench/cleanup.py   # another version, to compare

Three inputs: the fake upstream's default English text in 50 word pieces (what bench/run.py
streams), the same text one token per piece (each punctuation mark alone), and every plain
message of tests/corpus.py one token per piece. Each figure is the fastest of 7 rounds, in
CPU time. Then one reply of short sentences ("Hi. Hi. …") that comes as one piece of 64 KiB,
256 KiB and 1 MiB (issue 24: a 1 MiB piece held a worker 36 s while the cleanup was quadratic).
"""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

try:
    import messagebot.text.cleanup as cleanup_module
    from messagebot.text.length import LengthLimit
except ImportError:  # before issue 18 moved them into messagebot/text/
    import messagebot.cleanup as cleanup_module  # type: ignore[no-redef]

    try:
        from messagebot.length import LengthLimit  # type: ignore[no-redef]
    except ImportError:  # before limit.py became length.py
        from messagebot.limit import LengthLimit  # type: ignore[no-redef]
Cleanup = cleanup_module.Cleanup

# The fake upstream's English text until issue 14 (fixed here, so that every version is
# measured on the same input).
_FAKE_TEXT = (
    "Happy birthday! Wishing you a day full of joy, laughter and everything you love. "
    "Thank you for always being there for me. "
)
_TOKEN = re.compile(r"[^\S\n]?[^\W_]+|\n+|[^\S\n]+|.", re.DOTALL)


def _corpus() -> list[str]:
    path = Path(__file__).resolve().parent.parent / "tests" / "corpus.py"
    spec = importlib.util.spec_from_file_location("corpus", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(module.PLAIN)


def _cleanup(replies: list[list[str]]) -> None:
    for pieces in replies:
        cleanup = Cleanup()
        for piece in pieces:
            cleanup.feed(piece)
        cleanup.finish()


def _pipeline(replies: list[list[str]]) -> None:
    """What generation.py runs per piece: MessageText since issue 14, Cleanup then
    LengthLimit before."""
    try:
        from messagebot.text.pipeline import MessageText
    except ImportError:  # messagebot/text.py before issue 18, and nothing before issue 14
        try:
            from messagebot.text import MessageText  # type: ignore[attr-defined,no-redef]
        except ImportError:
            MessageText = None  # type: ignore[assignment,misc]
    if MessageText is None:
        for pieces in replies:
            cleanup, limit = Cleanup(), LengthLimit(1000)
            for piece in pieces:
                limit.feed(cleanup.feed(piece))
            limit.feed(cleanup.finish())
        return
    for pieces in replies:
        text = MessageText(1000)
        for piece in pieces:
            text.feed(piece)
        text.finish()


def per_piece(run: Callable[[list[list[str]]], None], replies: list[list[str]]) -> float:
    """CPU microseconds per piece (this process's, so that other work on a shared machine
    counts less): the fastest of 7 rounds of enough repeats to take ~0.2 s."""
    pieces = sum(len(reply) for reply in replies)
    repeats = max(1, 40_000 // pieces)
    rounds = []
    for _ in range(7):
        start = time.process_time()
        for _ in range(repeats):
            run(replies)
        rounds.append((time.process_time() - start) / (repeats * pieces) * 1e6)
    return min(rounds)


def one_piece(run: Callable[[list[list[str]]], None], piece: str) -> float:
    """CPU milliseconds for one reply that comes as one piece: the fastest of 3 rounds."""
    rounds = []
    for _ in range(3):
        start = time.process_time()
        run([[piece]])
        rounds.append((time.process_time() - start) * 1e3)
    return min(rounds)


def main() -> None:
    words = re.findall(r"\S+\s*", _FAKE_TEXT)
    fifty = [words[i % len(words)] for i in range(50)]
    inputs = {
        "fake text, 50 word pieces": [fifty],
        "fake text, per token": [_TOKEN.findall("".join(fifty))],
        "corpus, per token": [_TOKEN.findall(message) for message in _corpus()],
    }
    runs: dict[str, Callable[[list[list[str]]], None]] = {
        "Cleanup": _cleanup,
        "the whole text pipeline": _pipeline,
    }
    print(f"python {sys.version.split()[0]}, {cleanup_module.__file__}")
    for label, replies in inputs.items():
        pieces = sum(len(reply) for reply in replies)
        for name, run in runs.items():
            print(
                f"{label:28} {pieces:6} pieces  {name:32} {per_piece(run, replies):6.2f} µs/piece"
            )
    # Issue 24: one huge chunk (an upstream line may be up to 256 KiB; a read may join several).
    for size in (64 * 1024, 256 * 1024, 1024 * 1024):
        piece = ("Hi. " * (size // 4 + 1))[:size]
        for name, run in runs.items():
            label = f"short sentences, {size // 1024} KiB"
            print(f"{label:28} {1:6} piece   {name:32} {one_piece(run, piece):8.1f} ms")


if __name__ == "__main__":
    main()
