"""Where a sentence ends: the one definition that the length rule (text/length.py), the local
model's early stop (providers/local.py) and the quality checks (text/quality.py) share."""

from __future__ import annotations

# A sentence ends after one of these (before white space, or at the end of the text).
ENDERS = frozenset(".!?…。！？~～")
# … but not after the full stop of an abbreviation: "Mr. Park" goes on.
ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "vs", "etc"})


def word_before(text: str, end: int) -> str:
    """The word that `text[end - 1]` (a full stop, say) ends, without it; "" if none."""
    words = text[: end - 1].rsplit(None, 1)
    return words[-1] if words else ""


def ends_sentence(text: str, end: int) -> bool:
    """Whether `text[:end]` ends on a sentence end: an ender that is not an abbreviation's."""
    if end <= 0 or text[end - 1] not in ENDERS:
        return False
    return text[end - 1] != "." or word_before(text, end).lower() not in ABBREVIATIONS
