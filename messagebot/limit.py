"""Holding a streamed message to `max_length` characters without ever taking back a delta."""

from __future__ import annotations

# A cut may fall after these as well as before white space (CJK text has few spaces).
_CLOSERS = frozenset(".,!?;:…。、，！？～~)」』】")


def _cut(text: str, room: int) -> str:
    """The longest prefix of `text` within `room` characters that ends at a word boundary."""
    for end in range(min(room, len(text) - 1), 0, -1):
        if text[end].isspace() or text[end - 1] in _CLOSERS:
            return text[:end].rstrip()
    if text[:1].isspace():
        return ""  # the text already sent ended on a whole word
    return text[:room]


# Near the limit, the word being written is held back until it is whole, so that a cut never
# falls inside it. Further from the limit than this, no word could reach it.
_LONGEST_WORD = 32


def _last_boundary(text: str) -> int:
    for end in range(len(text) - 1, 0, -1):
        if text[end].isspace() or text[end - 1] in _CLOSERS:
            return end
    return 0


class LengthLimit:
    """Feeds pieces through: leading and trailing white space is held back, near the limit the
    word being written too, and once the text would overflow, the message is cut at the last
    word boundary that fits."""

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self.length = 0
        self.cut = False
        self._held = ""

    def feed(self, piece: str, final: bool = False) -> str:
        """The part of `piece` that may go out now (possibly ""). Sets `cut` when full.
        `final` says that no more text will come, so the last word is whole."""
        if self.cut:
            return ""
        text = self._held + piece
        if not self.length:
            text = text.lstrip()
        body = text.rstrip()
        room = self.max_length - self.length
        if len(body) > room:
            self.cut = True
            body = _cut(body, room)
        elif not final and body == text and len(body) > room - _LONGEST_WORD:
            body = body[: _last_boundary(body)].rstrip()  # the last word may still grow
        self._held = text[len(body) :]
        self.length += len(body)
        return body
