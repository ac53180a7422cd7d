"""The evaluation set: does the configured provider write messages people would send?

`messagebot eval` runs every request in prompts/eval_cases.json through the same path as the
API (prompt, provider, cleanup, length limit) and prints each criterion's pass rate; the
criteria themselves are text/quality.py's, the ones serving uses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .paths import data_dir
from .request import MessageRequest
from .text.quality import CRITERIA, Case

# The criteria of the first evaluation (before issue 17), reported on their own too.
OLD_CRITERIA = (
    "fits max_length",
    "names the person",
    "right language",
    "no preamble/quotes/placeholder",
    "at least a few words",
)


@dataclass
class Outcome:
    request: MessageRequest
    message: str
    error: str | None
    passed: dict[str, bool]
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the whole process's CPU time while this message was written

    @property
    def all_passed(self) -> bool:
        return self.error is None and all(self.passed.values())

    @property
    def old_passed(self) -> bool:
        return self.error is None and all(self.passed[name] for name in OLD_CRITERIA)


def load_eval_cases() -> list[Case]:
    """prompts/eval_cases.json: each case is a request, plus `keywords` that name its occasion."""
    raw: list[dict[str, Any]] = json.loads(
        (data_dir("prompts") / "eval_cases.json").read_text("utf-8")
    )
    cases = []
    for entry in raw:
        fields = dict(entry)
        keywords = tuple(fields.pop("keywords", ()))
        cases.append(Case(MessageRequest.model_validate(fields), keywords))
    return cases


def load_cases() -> list[MessageRequest]:
    return [case.request for case in load_eval_cases()]


def judge(
    request: MessageRequest | Case,
    message: str,
    error: str | None = None,
    seconds: float = 0.0,
    cpu_seconds: float = 0.0,
) -> Outcome:
    case = request if isinstance(request, Case) else Case(request)
    passed = {name: error is None and check(case, message) for name, check in CRITERIA.items()}
    return Outcome(case.request, message, error, passed, seconds, cpu_seconds)


def report(outcomes: list[Outcome]) -> str:
    total = len(outcomes)
    lines = [f"{total} requests"]
    for name in CRITERIA:
        ok = sum(o.passed[name] for o in outcomes)
        lines.append(f"  {name:<32} {ok:>3}/{total}  {ok / total:6.1%}")
    ok = sum(o.old_passed for o in outcomes)
    lines.append(f"  {'all old criteria (first five)':<32} {ok:>3}/{total}  {ok / total:6.1%}")
    ok = sum(o.all_passed for o in outcomes)
    lines.append(f"  {'all criteria':<32} {ok:>3}/{total}  {ok / total:6.1%}")
    for language in sorted({(o.request.language or "en") for o in outcomes}):
        subset = [o for o in outcomes if (o.request.language or "en") == language]
        ok = sum(o.all_passed for o in subset)
        lines.append(
            f"  all criteria, {language:<18} {ok:>3}/{len(subset)}  {ok / len(subset):6.1%}"
        )
    for label, values in (
        ("seconds per message", [o.seconds for o in outcomes if o.seconds]),
        ("CPU seconds per message", [o.cpu_seconds for o in outcomes if o.cpu_seconds]),
    ):
        if values:
            values.sort()
            lines.append(
                f"  {label}: p50 {values[len(values) // 2]:.2f}, "
                f"mean {sum(values) / len(values):.2f}, max {values[-1]:.2f}"
            )
    return "\n".join(lines)
