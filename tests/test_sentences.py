"""One definition of a sentence end (text/sentences.py), and the three places that ask it agree:
the length rule, the local model's early stop and the quality check "ends on a finished
sentence"."""

from __future__ import annotations

import pytest

from messagebot.providers.local import Ending
from messagebot.request import validate_fields
from messagebot.text.length import LengthLimit
from messagebot.text.quality import finished
from messagebot.text.sentences import ABBREVIATIONS, ends_sentence

EN = validate_fields({"relation": "friend", "reason": "birthday", "language": "en"})
ENDS = ["Happy birthday!", "Love you.", "Really?", "사랑해~", "おめでとう。", "Wait…"]
GOES_ON = [f"Say hello to {word.title()}." for word in sorted(ABBREVIATIONS)] + ["Happy birthday"]


def ending_says(text: str) -> bool:
    """Whether the local model's stop takes `text` as a finished sentence."""
    ending = Ending(1, 0)
    ending.text = text
    return ending.done_before(" next")


def length_rule_says(text: str) -> bool:
    """Whether the length rule cuts right after `text`: a message that no longer fits is cut at
    its last sentence end past half the limit, else at its last word boundary (after "ab")."""
    limit = LengthLimit(len(text) + 4)
    out = limit.feed(text + " ab cd")
    assert limit.cut and out in (text, text + " ab")
    return out == text


@pytest.mark.parametrize("text", ENDS)
def test_a_sentence_end_is_one_everywhere(text: str) -> None:
    assert ends_sentence(text, len(text))
    assert finished(EN, text)
    assert ending_says(text)
    assert length_rule_says(text)


@pytest.mark.parametrize("text", GOES_ON)
def test_an_abbreviation_ends_no_sentence_anywhere(text: str) -> None:
    assert not ends_sentence(text, len(text))
    assert not finished(EN, text)
    assert not ending_says(text)
    assert not length_rule_says(text)
