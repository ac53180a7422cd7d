"""The embedded model's sentence holding (issue 26, providers/local.py `Sentences`): pieces are
held back a sentence at a time, and what goes out adds up to what was written, however the
model's text was cut into pieces; nothing that went out is taken back or changed."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from messagebot.providers.local import Sentences, sentence_ended

# Sentence ends, abbreviations, numbers, quotes, Hangul and white space in any order.
PARTS = ["Happy", " birthday", "!", ".", "?", " Mr", ". ", " 2", ".5", "~", "”", " ", "\n", "  "]
HANGUL = [" 생일", " 축하해", "!", " 사랑해.", " 민지야,", "…", " Dr.", " love", " you", "."]
WORDS = st.sampled_from([*PARTS, *HANGUL])


@st.composite
def cut_text(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = "".join(draw(st.lists(WORDS, max_size=40)))
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=20)))
    bounds = [0, *cuts, len(text)]
    return text, [text[a:b] for a, b in itertools.pairwise(bounds) if b > a]


@given(cut_text())
def test_what_goes_out_adds_up_and_is_never_taken_back(case: tuple[str, list[str]]) -> None:
    text, pieces = case
    holder = Sentences()
    out: list[str] = []
    fed = ""
    for piece in pieces:
        sentence = holder.feed(piece)
        fed += piece
        if sentence is not None:
            out.append(sentence)
            shown = "".join(out)
            # What went out is a start of what was written, and the rest is held.
            assert fed.startswith(shown) and fed == shown + holder.held
            # It went out at a sentence end, which the next piece's white space closed.
            assert sentence.strip() and sentence_ended(shown)
            assert holder.held[:1].isspace()
    out.append(holder.finish())
    assert "".join(out) == text
    assert holder.held == "" and holder.before == text


@given(cut_text())
def test_a_sentence_goes_out_once_the_next_piece_starts_with_white_space(
    case: tuple[str, list[str]],
) -> None:
    """The rule the model's early stop (`Ending`) uses, so both see the same sentences: a
    sentence is held until a piece starting with white space follows its end."""
    _, pieces = case
    holder = Sentences()
    for piece in pieces:
        closes = holder.closes(piece)
        held = holder.held
        sentence = holder.feed(piece)
        assert (sentence is not None) == closes
        if closes:
            assert sentence == held and piece[:1].isspace() and sentence_ended(holder.before)


def test_already_accepted_text_counts_for_abbreviations() -> None:
    holder = Sentences("Dear Mr")
    assert holder.feed(".") is None  # "Mr." ends no sentence, even split from its word
    assert holder.feed(" Park") is None
    assert holder.feed(", hi!") is None
    assert holder.feed(" More") == ". Park, hi!"
