"""Text a client can always receive: control characters out, UTF-16 surrogates made whole.

SPEC ("The text is the model's text"): control characters other than newline and tab never
reach a client (NUL, ESC, CR, DEL and the C1 controls are dropped: in a terminal ESC starts a
command); a lone UTF-16 surrogate, which an upstream's JSON can carry as `"\\ud83c"`, becomes
U+FFFD; and a pair that an upstream split across two chunks (`"\\ud83c"`, then `"\\udf82"`,
as JavaScript proxies that slice strings do) is joined into its character. Python keeps such
halves as code points of their own, which no encoder accepts: one reaching a response broke it.

Invariant (tests/test_upstream_text.py holds it with hypothesis over random cuts): the text
released is the same however the reply was cut, since a high surrogate at the end of a piece,
the one character whose meaning the next piece decides, is held back until that piece comes.
Each piece is looked at once: linear in the reply.
"""

from __future__ import annotations

import re

# C0 but tab and newline, DEL, C1 (Unicode's Cc), and surrogates.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_FIX = re.compile(r"([\ud800-\udbff][\udc00-\udfff])|[\ud800-\udfff]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_HIGH = re.compile(r"[\ud800-\udbff]")
REPLACEMENT = "\ufffd"


def _fix(match: re.Match[str]) -> str:
    pair = match.group(1)
    if pair:
        return chr(0x10000 + ((ord(pair[0]) - 0xD800) << 10) + (ord(pair[1]) - 0xDC00))
    # A surrogate without its other half; else a control character.
    return REPLACEMENT if match.group() >= "\ud800" else ""


def sanitise(text: str) -> str:
    """A whole text at once, as `Sanitise` gives it piece by piece."""
    stage = Sanitise()
    return stage.feed(text) + stage.finish()


class Sanitise:
    """`feed()` each piece of the reply, then `finish()`; the returns are the reply as a
    client may receive it."""

    def __init__(self) -> None:
        self._held = ""  # a high surrogate that ended the last piece

    def feed(self, piece: str) -> str:
        text = self._held + piece if self._held else piece
        self._held = ""
        if not _UNSAFE.search(text):
            return text
        if _HIGH.fullmatch(text[-1]):
            text, self._held = text[:-1], text[-1]
        return _FIX.sub(_fix, text)

    def finish(self) -> str:
        held, self._held = self._held, ""
        return REPLACEMENT if held else ""
