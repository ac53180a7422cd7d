"""One message's text on its way out: the model's pieces, cleaned, within the length limit.

`feed()` each piece as it arrives and send what it returns; `finish()` once the model is done.
The concatenated returns are the same however the reply was cut into pieces (see
`cleanup.py` and `length.py` for why), at most `max_length` characters, and the whole cleaned
reply whenever that fits.
"""

from __future__ import annotations

from .cleanup import Cleanup
from .length import LengthLimit


class MessageText:
    def __init__(self, max_length: int) -> None:
        self._cleanup = Cleanup()
        self._limit = LengthLimit(max_length)

    @property
    def cut(self) -> bool:
        """The message did not fit and was cut: read no more of the reply."""
        return self._limit.cut

    def feed(self, piece: str) -> str:
        cleaned, cleanup = self._cleanup.feed(piece), self._cleanup
        return self._limit.feed(cleaned, cleanup.word_ends, cleanup.space_follows)

    def finish(self) -> str:
        return self._limit.feed(self._cleanup.finish()) + self._limit.finish()
