"""The evaluation criteria, and `messagebot eval` run for real against the fake upstream."""

from __future__ import annotations

import asyncio
import os
import re
import sys

from messagebot.evaluation import CRITERIA, judge, load_cases
from messagebot.fake_upstream import FakeUpstream
from messagebot.request import validate_fields

from .conftest import openai_env


def failed(fields: dict[str, object], message: str) -> set[str]:
    outcome = judge(validate_fields(fields), message)
    return {name for name, ok in outcome.passed.items() if not ok}


def test_the_set_has_at_least_30_cases_in_korean_and_english() -> None:
    cases = load_cases()
    assert len(cases) >= 30
    assert {c.language for c in cases} == {"en", "ko"}
    assert len({c.reason for c in cases}) >= 20
    assert len({c.max_length for c in cases}) >= 5


def test_a_good_message_passes_everything() -> None:
    en = {"name": "Minji", "relation": "wife", "reason": "birthday", "language": "en"}
    assert failed(en, "Minji, happy birthday! I love you more every year.") == set()
    ko = {"name": "박 부장님", "relation": "상사", "reason": "추석", "language": "ko"}
    assert failed(ko, "부장님, 추석 잘 보내세요! 늘 감사합니다.") == set()


def test_each_criterion_catches_its_fault() -> None:
    en = {
        "name": "Minji",
        "relation": "wife",
        "reason": "birthday",
        "language": "en",
        "max_length": 40,
    }
    assert failed(en, "Minji, happy birthday! " * 3) == {"fits max_length"}
    assert failed(en, "Happy birthday, my love!") == {"names the person"}
    assert failed(en, "민지야, 생일 축하해! 사랑해.") >= {"right language"}
    assert failed(en, "Sure! Here's one:\nMinji, happy bday") == {"no preamble/quotes/placeholder"}
    assert failed(en, '"Minji, happy birthday, love!"') == {"no preamble/quotes/placeholder"}
    assert failed(en, "Minji, happy birthday! [Your Name]") == {"no preamble/quotes/placeholder"}
    assert failed(en, "Minji!") == {"at least a few words"}
    assert set(CRITERIA) == {
        "fits max_length",
        "names the person",
        "right language",
        "no preamble/quotes/placeholder",
        "at least a few words",
    }


async def test_eval_command_prints_pass_rates(fake: FakeUpstream) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "messagebot.cli",
        "eval",
        env={**os.environ, **openai_env(fake)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    text = out.decode()
    assert process.returncode == 0, err.decode()
    assert "provider openai, model fake-model" in text
    assert "32 requests" in text
    for name in CRITERIA:
        assert name in text
    # The fake writes a fixed English text without names: the report must say so (only the
    # two cases without a name pass that criterion).
    assert re.search(r"names the person\s+2/32", text), text
