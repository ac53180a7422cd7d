"""`messagebot write -n 3` prints three different messages, numbered (issue 25)."""

from __future__ import annotations

import re

from messagebot.fake_upstream import FakeUpstream

from .helpers import openai_env
from .test_cli import run_cli


async def test_write_n_prints_numbered_messages(fake: FakeUpstream) -> None:
    out, _ = await run_cli(
        "write",
        "--relation",
        "wife",
        "--reason",
        "birthday",
        "-n",
        "3",
        env=openai_env(fake),
        expect=0,
    )
    parts = re.split(r"(?m)^([1-3])\. ", out)
    assert parts[0] == "" and parts[1::2] == ["1", "2", "3"], out
    messages = [text.strip() for text in parts[2::2]]
    assert len(set(messages)) == 3 and all(messages), out


async def test_write_refuses_a_bad_n(fake: FakeUpstream) -> None:
    _, err = await run_cli(
        "write",
        "--relation",
        "wife",
        "--reason",
        "birthday",
        "-n",
        "9",
        env=openai_env(fake),
        expect=2,
    )
    assert "n: must be at most 5" in err
