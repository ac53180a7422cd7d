"""The local provider ends a message at its first sentence end past a share of the limit
(issue 17). How it judges each sentence (issue 26): test_local_stream.py, with the model."""

from __future__ import annotations

from messagebot.providers.local import Ending


def feed(ending: Ending, pieces: list[str]) -> str:
    for piece in pieces:
        if ending.done_before(piece):
            break
    return ending.text


def test_stops_at_the_first_sentence_end_past_the_share() -> None:
    pieces = ["Minji", ",", " happy", " birthday", "!", " I", " love", " you", ".", " See", " you"]
    # Past 10 characters, "…birthday!" is the first sentence end; the space after it ends it.
    assert feed(Ending(10, 200), pieces) == "Minji, happy birthday!"
    # Past 30, the next one.
    assert feed(Ending(30, 200), pieces) == "Minji, happy birthday! I love you."
    # Off: everything.
    assert feed(Ending(0, 0), pieces) == "".join(pieces)


def test_abbreviations_and_numbers_end_no_sentence() -> None:
    assert feed(Ending(1, 200), ["Dear", " Mr", ".", " Park", ",", " hi", "!", " more"]) == (
        "Dear Mr. Park, hi!"
    )
    assert feed(Ending(1, 200), ["Version", " 2", ".", "5", " is", " out", ".", " Yes"]) == (
        "Version 2.5 is out."
    )


def test_korean_sentences_and_the_hard_stop() -> None:
    pieces = ["지영아", ",", " 생일", " 축하해", "!", " 올해도", " 행복해", "~", " 또"]
    assert feed(Ending(8, 100), pieces) == "지영아, 생일 축하해!"
    # Far past max_chars with no sentence end: stopped, and the service's length rule cuts.
    long = ["word "] * 100
    assert len(feed(Ending(0, 40), long)) <= 40 + 20 + len("word ")
