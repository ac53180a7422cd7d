"""One message's text on its way out: the model's pieces, made safe to send, cleaned, within
the length limit.

`feed()` each piece as it arrives and send what it returns; `finish()` once the model is done.
The concatenated returns are the same however the reply was cut into pieces (see
`sanitise.py`, `cleanup.py` and `length.py` for why), at most `max_length` characters, and the
whole cleaned reply whenever that fits.
"""

from __future__ import annotations

from .cleanup import Cleanup
from .length import LengthLimit
from .sanitise import Sanitise


class MessageText:
    def __init__(self, max_length: int) -> None:
        self._sanitise = Sanitise()
        self._cleanup = Cleanup()
        self._limit = LengthLimit(max_length)

    @property
    def cut(self) -> bool:
        """The message did not fit and was cut: read no more of the reply."""
        return self._limit.cut

    def feed(self, piece: str) -> str:
        return self._clean(self._sanitise.feed(piece))

    def _clean(self, text: str) -> str:
        cleaned, cleanup = self._cleanup.feed(text), self._cleanup
        return self._limit.feed(cleaned, cleanup.word_ends, cleanup.space_follows)

    def finish(self) -> str:
        last = self._clean(self._sanitise.finish())
        return last + self._limit.feed(self._cleanup.finish()) + self._limit.finish()
