"""Holding a streamed message to `max_length` characters without ever taking back a delta.

The rule (docs/api.md, "The length rule"): a message that fits is never cut. One that
does not is cut at its last sentence end that keeps most of it (at least half the limit), else
at its last word boundary, else (one endless word) at the limit itself.

While the text still fits, only what every possible cut would keep goes out: up to the last
sentence end past half the limit, or before that, up to the last word boundary or half the
limit, whichever comes first. So in the first half of the limit the text streams word by word,
and in the second half sentence by sentence. `finish()` releases the rest when the message
fits; once the text passes the limit, the cut is decided from its first `max_length + 1`
characters alone.
"""

from __future__ import annotations

import logging
import re

from .sentences import ENDERS, ends_sentence

# A word boundary may fall after these as well as before white space (CJK text has few spaces).
_CLOSERS = frozenset(".,!?;:…。、，！？～~)」』】")


log = logging.getLogger("messagebot.length")

_WORD_END = re.compile(rf"(?<=\S)(?=\s)|(?<=[{re.escape(''.join(sorted(_CLOSERS)))}])(?=\S)")
# A sentence ends before white space (ends_sentence then rules out "Mr.").
_SENTENCE_END = re.compile(rf"(?<=[{re.escape(''.join(sorted(ENDERS)))}])(?=\s)")


class LengthLimit:
    """Feeds cleaned text through; sets `cut` once the message no longer fits."""

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self.cut = False
        self._text = ""  # everything fed, up to max_length + 1 characters
        self._sent = 0
        self._most = (max_length + 1) // 2  # "most of it": a cut keeps at least this much
        self._checked = 1  # positions below this have been looked at
        self._last_sentence = 0  # the last sentence end at or past `_most`
        self._last_word = 0  # the last word boundary

    @property
    def length(self) -> int:
        return self._sent

    def feed(self, piece: str, word_ends: bool = False, space_follows: bool = False) -> str:
        """The part of the message that may go out now (possibly "").

        The cleanup holds back white space until it knows it is not wrapping, so it tells
        what follows the text fed so far: `word_ends`, white space that may still go with a
        placeholder (then a word, or punctuation that ends one, comes next), so its last word
        is whole; `space_follows`, white space or the message's end, so a sentence that ends
        there is whole. Only what goes out now depends on them, never where a cut falls."""
        if self.cut:
            return ""  # past the cut: the part the rule drops
        self._text += piece
        text, limit = self._text, self.max_length
        if len(text) > limit:
            self._text = text[: limit + 1]
            self.cut = True
            self._scan()
            end = self._last_sentence or self._last_word or limit
            if end < self._sent:
                # Cannot happen (see above): a delta cannot be taken back, so the message
                # keeps it, but say so.
                log.warning(
                    "the length cut fell inside text already sent: %d < %d", end, self._sent
                )
                end = self._sent
            return self._release(end)
        self._scan()
        sentence, word = self._last_sentence, self._last_word
        if text and not text[-1].isspace():
            end = len(text)
            if word_ends:
                word = end
            if space_follows and end >= self._most and self._ends_sentence(end):
                sentence = end
        # (What the hints allowed before may be more than the text alone allows now.)
        return self._release(max(self._sent, sentence or min(self._most, word)))

    def finish(self) -> str:
        """The rest, once no more text will come: all of it, unless the message was cut."""
        return "" if self.cut else self._release(len(self._text))

    def _scan(self) -> None:
        """Note the last sentence end and word boundary in the new text (each needs the
        character after it, so the text's last position waits for more)."""
        text = self._text
        for match in _WORD_END.finditer(text, self._checked):
            self._last_word = match.start()
        for match in _SENTENCE_END.finditer(text, max(self._checked, self._most)):
            if self._ends_sentence(match.start()):
                self._last_sentence = match.start()
        self._checked = len(text)

    def _ends_sentence(self, end: int) -> bool:
        return ends_sentence(self._text, end)

    def _release(self, end: int) -> str:
        out = self._text[self._sent : end]
        self._sent = end
        return out
