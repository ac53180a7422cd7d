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


class LengthLimit:
    """Feeds pieces through: leading and trailing white space is held back, and once the next
    piece would overflow, the rest of the message is cut at the last word boundary that fits."""

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self.length = 0
        self.cut = False
        self._held = ""

    def feed(self, piece: str) -> str:
        """The part of `piece` that may go out now (possibly ""). Sets `cut` when full."""
        if self.cut:
            return ""
        text = self._held + piece
        if not self.length:
            text = text.lstrip()
        body = text.rstrip()
        self._held = text[len(body) :]
        if not body:
            return ""
        room = self.max_length - self.length
        if len(body) > room:
            self.cut = True
            body = _cut(body, room)
        self.length += len(body)
        return body
