"""What building a prompt costs per request, in-process, on one core: the figure that
tests/test_korean.py once asserted (< 5 ms per request) and now checks by what makes it so
(the bank read and tagged once, each selection cached by its key) instead of by the clock.

    python bench/prompt.py                        # this checkout
    PYTHONPATH=/path/to/other/checkout python bench/prompt.py   # another version, to compare

200 requests that differ in name and max_length (each a new selection, as in the test), built
as a Korean and an English few-shot prompt (the local model's) and as English chat messages;
first once with cold selections, then again (every selection cached). Each figure is the
fastest of 7 rounds, in CPU time (this process's, so that other work on a shared machine counts
less). The bank is read before the first round.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from messagebot.request import MessageRequest, validate_fields
from messagebot.text import examples
from messagebot.text.prompts import PromptStyle, build_prompt

REQUESTS = 200


def _requests(name: str, relation: str, reason: str) -> list[MessageRequest]:
    return [
        validate_fields(
            {"name": f"{name}{i}", "relation": relation, "reason": reason, "max_length": 60 + i}
        )
        for i in range(REQUESTS)
    ]


def per_request(run: Callable[[], None], clear: Callable[[], None] | None) -> float:
    """CPU milliseconds per request: the fastest of 7 rounds (`clear` before each, if any)."""
    rounds = []
    for _ in range(7):
        if clear is not None:
            clear()
        start = time.process_time()
        run()
        rounds.append((time.process_time() - start) / REQUESTS * 1e3)
    return min(rounds)


def main() -> None:
    cases: dict[str, tuple[list[MessageRequest], str, PromptStyle]] = {
        "ko, completion": (_requests("지영", "친구", "생일"), "ko", "completion"),
        "en, completion": (_requests("Alex", "friend", "birthday"), "en", "completion"),
        "en, chat": (_requests("Alex", "friend", "birthday"), "en", "chat"),
    }
    examples.bank()  # read and tagged once per process, before any round
    print(f"python {sys.version.split()[0]}, {examples.__file__}")
    for label, (requests, language, style) in cases.items():

        def run(
            requests: list[MessageRequest] = requests,
            language: str = language,
            style: PromptStyle = style,
        ) -> None:
            for request in requests:
                build_prompt(request, language, style)

        cold = per_request(run, examples._ranked.cache_clear)
        warm = per_request(run, None)
        print(
            f"{label:16} {REQUESTS} requests  new selections {cold:6.3f} ms/request  "
            f"cached {warm:6.3f} ms/request"
        )


if __name__ == "__main__":
    main()
