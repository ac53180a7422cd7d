"""An upstream's Server-Sent Events body cut into lines, however it is read.

The SSE standard ends a line with CRLF, LF or CR alone, and a read may end anywhere, between a
CR and its LF too. A line is bounded (MAX_LINE): one that grows past it (an endless `data:`
line, or one huge chunk) ends the message with `upstream_error` instead of holding memory
until the deadline.

Invariant (tests/test_upstream_lines.py holds it with hypothesis over random cuts): the lines
are the same however the body was cut into reads. The unfinished line is kept in a bytearray,
so each byte is copied a bounded number of times: linear in the body.
"""

from __future__ import annotations

from ..errors import APIError, ErrorCode

MAX_LINE = 256 * 1024  # bytes; a chunk of a chat stream is well under 1 KiB


class SSELines:
    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._pending = bytearray()
        self._after_cr = False  # the last read ended with a CR: an LF that follows is its end
        self._max_line = max_line

    def feed(self, data: bytes) -> list[bytes]:
        """The lines that `data` completes, without their line ends."""
        if self._after_cr and data[:1] == b"\n":
            data = data[1:]
        self._after_cr = False
        if b"\r" in data:
            self._after_cr = data.endswith(b"\r")
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if b"\n" not in data:
            self._pending += data
            self._check(len(self._pending))
            return []
        if self._pending:
            self._pending += data
            data = bytes(self._pending)
        lines = data.split(b"\n")
        rest = lines.pop()  # an unfinished line waits for the next read
        self._pending = bytearray(rest)
        if len(data) > self._max_line:  # so that most reads cost no look at each line
            self._check(max(len(rest), *map(len, lines)))
        return lines

    def _check(self, size: int) -> None:
        if size > self._max_line:
            raise APIError(
                ErrorCode.UPSTREAM_ERROR,
                f"The language model service sent a line longer than {self._max_line // 1024} KiB.",
            )
