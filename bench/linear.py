"""Every stage of the text pipeline costs time linear in the text it is given, whatever its
shape and however it is cut (issue 24, item 4: one 1 MiB chunk of short sentences held a
worker for 36 s, the cleanup's tail looking at the whole rest of the text at each sentence
end).

For each shape and stage it prints the CPU time of 4× the text against 1× (the fastest of 3
rounds): linear work gives about 4; the quadratic stages gave 9 to 17 here. A figure over 8 is
flagged, and the script then exits 1. A benchmark, not a unit test: these machines are shared
and noisy, so timing belongs here (bench/cleanup.py has the figures for a 1 MiB piece).

    python bench/linear.py
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from messagebot.text.cleanup import Cleanup
from messagebot.text.pipeline import MessageText

SIZE = 32_000


def sentences(size: int) -> str:
    return ("Hi. " * (size // 4 + 1))[:size]


SHAPES: dict[str, tuple[Callable[[int], str], int | None]] = {
    # (the text of a given size, the piece size it comes in; None: one piece)
    "short sentences, one piece": (sentences, None),
    "short sentences and closing words, one piece": (lambda n: ("Hi. Love, " * n)[:n], None),
    "trailing white space, a character a piece": (lambda n: "Hi." + " " * n, 1),
    "leading white space, a character a piece": (lambda n: "\n" * n + "Hi.", 1),
    "white space, then a signature, a character a piece": (
        lambda n: "Hi." + "\n" * n + "Best wishes, Jun",
        1,
    ),
    "emphasis markers, two characters a piece": (lambda n: "Hi " + "**" * (n // 2), 2),
    "control characters, a character a piece": (lambda n: "Hi " + "\x00" * n, 1),
    "lone surrogates, a character a piece": (lambda n: "Hi " + "\ud83c" * n, 1),
}


def cpu_seconds(run: Callable[[], object]) -> float:
    """The fastest of 3 rounds, each repeated until it has taken 20 ms of CPU."""
    best = float("inf")
    for _ in range(3):
        repeats, start = 0, time.process_time()
        while (elapsed := time.process_time() - start) < 0.02 or not repeats:
            run()
            repeats += 1
        best = min(best, elapsed / repeats)
    return best


def pieces_of(text: str, size: int | None) -> list[str]:
    return [text] if size is None else [text[i : i + size] for i in range(0, len(text), size)]


def cleanup_all(pieces: list[str]) -> None:
    cleanup = Cleanup()
    for piece in pieces:
        cleanup.feed(piece)
    cleanup.finish()


def pipeline_all(pieces: list[str]) -> None:
    text = MessageText(1000)
    for piece in pieces:
        text.feed(piece)
        if text.cut:
            return
    text.finish()


STAGES: dict[str, Callable[[list[str]], None]] = {"cleanup": cleanup_all, "pipeline": pipeline_all}


def main() -> int:
    worst = 0.0
    print(f"{'shape':<52} {'stage':<9} 4x text / 1x text (CPU)")
    for shape, (make, size) in SHAPES.items():
        small, large = pieces_of(make(SIZE), size), pieces_of(make(4 * SIZE), size)
        for name, stage in STAGES.items():
            ratio = cpu_seconds(lambda: stage(large)) / cpu_seconds(lambda: stage(small))  # noqa: B023
            worst = max(worst, ratio)
            flag = "  <- not linear" if ratio >= 8 else ""
            print(f"{shape:<52} {name:<9} {ratio:5.1f}x{flag}")
    return 1 if worst >= 8 else 0


if __name__ == "__main__":
    sys.exit(main())
