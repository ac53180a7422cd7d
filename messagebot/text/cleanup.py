"""Making a model's reply send-ready while it streams, without touching the message itself.

The reply goes through three small streaming stages, each with `feed(piece) -> str` and
`finish() -> str`:

1. `_Head` drops the wrapping a model puts before a message: white space, up to three
   preamble or title lines ("Sure! Here's a message for your wife:", "**Happy Birthday!**",
   "물론이죠! 다음은 … 메시지입니다:"), an inline preamble ("Sure! Here's a message for you: …"),
   and an opening quote that wraps the whole message. Once it has decided where the message
   starts, every later character passes through as it comes.
2. `_Inline` drops placeholders ("[Your Name]", "(이름)") with the white space before them, and
   markdown emphasis markers (`**`, `__`).
3. `_Tail` drops the wrapping a model puts after a message: trailing white space, the closing
   quote that matches a dropped opening one, a signature left dangling once its placeholder
   is gone ("Best wishes,"), and a closing word left dangling after the last sentence
   ("… Love,").

Invariants (tests/test_cleanup.py checks them with hypothesis over random cuts):

- **The output depends on the reply alone, never on how it was cut.** Each stage releases a
  prefix of what it was given, and how much it may release is a monotone function of the text
  seen so far: each decision is taken at a point that the text itself fixes (the end of a
  line, the first character that rules a pattern out, the end of a window), from that text
  alone, and is never revised. Nothing is cleaned twice, and nothing released is taken back.
- **The model's text passes through verbatim** between the head and the tail, but for
  placeholders and emphasis markers.
- **Nothing is dropped silently.** Text is held only while a rule could still apply to it, and
  released as soon as the rule is ruled out; `finish()` releases everything still held, less
  what a rule names.
- **Holding is bounded:** the head holds at most `_HEAD_LINES` lines of `_HEAD_LINE`
  characters, then `_QUOTE_WINDOW` characters after an opening quote; `_Inline` at most a run
  of white space and `_PLACEHOLDER_MAX` characters from a bracket; `_Tail` at most a run of
  white space and `_TAIL_MAX` characters.
"""

from __future__ import annotations

import logging
import re

log = logging.getLogger("messagebot.cleanup")

# ---------------------------------------------------------------------------------------------
# The head: preamble and title lines, an opening quote.

_HEAD_LINES = 3  # a preamble, a title, and a blank or second preamble line at most
_HEAD_LINE = 160  # a longer first line is the message itself
_QUOTE_WINDOW = 200  # how far an opening quote looks for the quote that closes it

# A preamble or title line starts with one of these (case aside). A first line that does not
# is the message, and goes out from the first character that rules them all out; so the list
# leaves out what messages often start with ("Happy…", "A…", "I'd like…", "네 생일…").
_HEAD_STARTS = (
    "sure",
    "certainly",
    "of course",
    "absolutely",
    "okay",
    "ok!",
    "ok,",
    "great!",
    "great,",
    "here",
    "below",
    "the following",
    "i'd be happy",
    "i would be happy",
    "i'd love to help",
    "i'm happy",
    "#",
    "**",
    "subject",
    "제목",
    "물론",
    "네,",
    "네!",
    "네.",
    "좋아요",
    "알겠습니다",
    "다음은",
    "여기",
    "아래는",
)
_INTERJECTION = (
    r"(?:sure|certainly|of\ course|absolutely|okay|ok|great|물론이죠|물론입니다|물론|네|좋아요|"
    r"알겠습니다)"
)
# A whole first line that is only talk about the message.
_PREAMBLE = re.compile(
    rf"""^{_INTERJECTION}\s*[!.,~]?\s*$                                    # "Sure!" alone
        |^{_INTERJECTION}\s*[!.,~]\s*.{{0,150}}:\s*$                        # "Sure! Here's …:"
        |^(?:here(?:'s|\ is|\ are)|below\ is|i'd|i\ would|i'm).{{0,150}}:\s*$
        |^(?:다음은|여기|아래는).{{0,80}}(?:메시지|문구|인사|내용).{{0,20}}[:.]?\s*$
        |^.{{0,150}}(?:message|메시지|문구)[^.!?\n]{{0,40}}:\s*$
    """,
    re.IGNORECASE | re.VERBOSE,
)
_TITLE = re.compile(r"^(?:#{1,6}\s.*|\*\*[^*]{1,80}\*\*\s*|subject:.*|제목\s*:.*)$", re.IGNORECASE)
# "Sure! Here's a message for you: Happy birthday…" on one line: the part to drop. It ends at
# the line's first colon, so once a character follows that colon, it can no longer change.
_INLINE_PREAMBLE = re.compile(
    rf"^(?:{_INTERJECTION}\s*[!.,]?\s*)?(?:here(?:'s|\ is)|다음은)[^:\n]{{0,120}}"
    r"(?:message|note|greeting|메시지|문구|인사)[^:\n]{0,40}:[^\S\n]*",
    re.IGNORECASE,
)
_OPEN_QUOTES = {'"': '"', "“": "”", "'": "'", "「": "」", "『": "』", "‘": "’"}
_SPACE = re.compile(r"\s*")


def _may_start_head(partial: str) -> bool:
    """Whether a first line that begins with `partial` could still be a preamble or title.
    Monotone: once False, False for every longer `partial`."""
    low = partial.lower()
    return any(start.startswith(low) or low.startswith(start) for start in _HEAD_STARTS)


def _classify(line: str) -> int | None:
    """For a whole head line: None if it is wrapping to drop, else where the message starts in
    it (0 for the whole line, or after an inline preamble)."""
    stripped = line.strip()
    if not stripped.lower().startswith(_HEAD_STARTS):
        return 0
    if _PREAMBLE.search(stripped) or _TITLE.match(stripped):
        return None
    return 0


def is_preamble(line: str) -> bool:
    """Whether a whole first line is wrapping the head drops: the one preamble rule, which
    text/quality.py applies too."""
    return _classify(line) is None


def _inline_preamble(line: str) -> int:
    """Where the message starts after an inline preamble on `line` (whole or partial), or 0.
    Decided once a character other than white space follows the preamble's colon."""
    if not line.lower().startswith(_HEAD_STARTS):
        return 0
    match = _INLINE_PREAMBLE.match(line)
    if match is None or match.end() == len(line):
        return 0
    return match.end()


def _quote(text: str, start: int, final: bool) -> bool | None:
    """Whether the quote at `text[start]` wraps the whole message, or None while unknown.

    It wraps when its first closing quote is followed by the end of a line, or when no
    closing quote ends its first line (a message of several lines, or one longer than the
    window). "'Tis the season", '"Age is just a number," they say' keep their quotes. A
    straight apostrophe wraps only in the first way: it opens "'Tis" and "'cause" as often."""
    opener = text[start]
    closer = _OPEN_QUOTES[opener]
    unclosed = opener != "'"  # what a quote left open at the first line's end means
    window = text[start + 1 : start + 1 + _QUOTE_WINDOW]
    for index, char in enumerate(window):
        if char == "\n":
            return unclosed
        if char == closer:
            for after in window[index + 1 :]:
                if after == "\n":
                    return True
                if not after.isspace():
                    return False
            break
    if len(window) == _QUOTE_WINDOW:
        return unclosed if closer not in window else True
    if final:
        # Nothing but white space after the closing quote, or an unclosed quote.
        return closer in window
    return None


class _Head:
    """Holds the start of the reply until it knows where the message begins."""

    def __init__(self) -> None:
        self._text = ""
        self.decided = False
        #: The quote that closes the message, when an opening one was dropped as wrapping.
        self.closer: str | None = None

    def feed(self, piece: str) -> str:
        if self.decided:
            return piece
        self._text += piece
        return self._decide(final=False)

    def finish(self) -> str:
        if self.decided:
            return ""
        return self._decide(final=True)

    def _decide(self, final: bool) -> str:
        start = self._message_start(final)
        if start is None:
            return ""
        text = self._text
        if start < len(text) and text[start] in _OPEN_QUOTES:
            wraps = _quote(text, start, final)
            if wraps is None:
                return ""
            if wraps:
                self.closer = _OPEN_QUOTES[text[start]]
                start += 1
        self.decided = True
        self._text = ""
        return text[start:]

    def _message_start(self, final: bool) -> int | None:
        """Where the message starts after the head lines, or None while that is unknown."""
        text = self._text
        pos = 0
        for _ in range(_HEAD_LINES):
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if pos == len(text):
                return pos if final else None
            newline = text.find("\n", pos, pos + _HEAD_LINE + 1)
            line = text[pos:newline] if newline >= 0 else text[pos : pos + _HEAD_LINE + 1]
            if inline := _inline_preamble(line):
                return pos + inline
            if newline < 0:
                if len(line) > _HEAD_LINE:
                    return pos  # too long for a preamble: the message itself
                if not final:
                    return None if _may_start_head(line) else pos
            if _classify(line) is not None:
                return pos
            if newline < 0:
                return len(text)  # the whole reply was a preamble (final)
            pos = newline + 1
        pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        return pos if pos < len(text) or final else None


# ---------------------------------------------------------------------------------------------
# Inline: placeholders and emphasis markers.

_PLACEHOLDER_MAX = 40
_BRACKETS = {"[": "]", "<": ">", "{": "}", "(": ")"}
# The text inside a placeholder's brackets, lower-cased and without white space.
_PLACEHOLDERS = frozenset(
    owner + full + noun + here
    for owner in (
        "",
        "your",
        "my",
        "sender",
        "sender's",
        "senders",
        "recipient",
        "recipient's",
        "recipients",
        "their",
        "insert",
        "insertyour",
    )
    for full in ("", "full")
    for noun in ("name", "signature", "이름", "보내는사람")
    for here in ("", "here")
)
_AFTER_PLACEHOLDER = frozenset(",.!?;:)…")
_PLAIN_PIECE = re.compile(r"\s*[^\s\[<{(*_]+")
_INLINE_SPECIAL = re.compile(r"[\s\[<{(*_]")
_SPACES = re.compile(r"\s+")


def _placeholder_end(text: str, bracket: int) -> int | None:
    """Where a placeholder opened at `text[bracket]` ends, -1 if it is none, or None while
    unknown."""
    closer = _BRACKETS[text[bracket]]
    end = text.find(closer, bracket + 1, bracket + 1 + _PLACEHOLDER_MAX)
    inside = text[bracket + 1 : end if end >= 0 else bracket + 1 + _PLACEHOLDER_MAX]
    key = _SPACES.sub("", inside.lower())
    if end >= 0:
        return end + 1 if key in _PLACEHOLDERS else -1
    if len(inside) == _PLACEHOLDER_MAX or not any(p.startswith(key) for p in _PLACEHOLDERS):
        return -1
    return None


class _Inline:
    """Drops placeholders (with the white space before them) and `**` / `__` markers. What
    opens the message once they are gone is never white space ("[Your Name]\nHi", "**\nHi" →
    "Hi"): white space around the message is wrapping too."""

    def __init__(self) -> None:
        self._held = ""
        self._begun = False  # some text has been let through

    @property
    def held(self) -> str:
        return self._held

    def feed(self, piece: str) -> str:
        if self._begun and not self._held and _PLAIN_PIECE.fullmatch(piece):
            return piece  # what _scan would give: white space before a plain word stays
        return self._scan(self._held + piece, final=False)

    def finish(self) -> str:
        return self._scan(self._held, final=True)

    def _scan(self, text: str, final: bool) -> str:
        out = self._scan_text(text, final)
        if not self._begun:
            out = out.lstrip()
            self._begun = bool(out)
        return out

    def _scan_text(self, text: str, final: bool) -> str:
        out: list[str] = []
        pos, size = 0, len(text)
        self._held = ""
        while pos < size:
            match = _INLINE_SPECIAL.search(text, pos)
            if match is None:
                out.append(text[pos:])
                break
            start = match.start()
            out.append(text[pos:start])
            char = text[start]
            if char in "*_":
                if start + 1 == size and not final:
                    self._held = text[start:]
                    break
                if text[start + 1 : start + 2] == char:
                    pos = start + 2  # "**" or "__": emphasis, dropped
                else:
                    out.append(char)
                    pos = start + 1
                continue
            bracket = _SPACES.match(text, start).end() if char.isspace() else start  # type: ignore[union-attr]
            if bracket == size or text[bracket] not in _BRACKETS:
                if bracket == size and not final:
                    self._held = text[start:]  # white space that may precede a placeholder
                    break
                out.append(text[start:bracket])
                pos = bracket
                continue
            end = _placeholder_end(text, bracket)
            # Not known yet: whether it is a placeholder or, when white space comes before it,
            # what follows it (which decides whether that white space goes too).
            undecided = end is None or (end == size and bracket > start)
            if undecided and not final:
                self._held = text[start:]
                break
            if end is not None and end >= 0:
                # The placeholder goes, and the white space before it unless a word follows
                # at once ("Dear [Name], hi" → "Dear, hi"; "Hi [Name]🎉" → "Hi 🎉").
                if end < size and not (text[end].isspace() or text[end] in _AFTER_PLACEHOLDER):
                    out.append(text[start:bracket])
                pos = end
            else:
                out.append(text[start : bracket + 1])
                pos = bracket + 1
        return "".join(out)


# ---------------------------------------------------------------------------------------------
# The tail: closing quote, dangling signature or closing word, trailing white space.

_TAIL_MAX = 120
_TAIL_LINES = 3
_VALEDICTIONS = (
    "best",
    "warm",
    "kind",
    "love",
    "with love",
    "lots of love",
    "all my love",
    "cheers",
    "sincerely",
    "yours",
    "regards",
    "hugs",
    "xoxo",
    "fondly",
    "from",
    "-",
    "–",
    "—",
    "사랑을 담아",
    "사랑해",
    "진심을 담아",
)
_VALEDICTION_TEXT = 30  # what may follow the word on a signature line
_VALEDICTION = re.compile(
    r"^(?:best|warm(?:est)?|kind|love|with love|lots of love|all my love|cheers|sincerely|yours|"
    r"regards|hugs|xoxo|fondly|[-–—]|사랑을 담아|사랑해|진심을 담아|from)\b.{0,30}$",
    re.IGNORECASE,
)
# "Love," or "Best wishes," closing a message's last line, left once its placeholder is gone.
_CLOSINGS = (
    "best wishes",
    "best",
    "warm regards",
    "warmly",
    "love",
    "with love",
    "lots of love",
    "cheers",
    "sincerely",
    "yours",
    "hugs",
    "사랑을 담아",
    "진심을 담아",
)
_CLOSING_WORD = re.compile(rf"\s+(?:{'|'.join(_CLOSINGS)}),\s*$", re.IGNORECASE)
# Narrower than text/sentences.py on purpose: after "~" or "…" (chat style) a "Love," may be
# the message's own words, so only a closing after . ! ? is taken for wrapping.
_SENTENCE_END = ".!?"
_LONGEST_CLOSING = max(map(len, _CLOSINGS))
# A closing word, then only a comma and white space to the end of the text, or (before the
# quote that closes a quoted message: 'Thank you. Love, [Your Name]"') that quote too.
_CLOSING_TO_END = {
    closer: re.compile(
        rf"(?:{'|'.join(_CLOSINGS)}),?\s*"
        + (rf"(?:{re.escape(closer)}\s*)?" if closer else "")
        + r"\Z",
        re.IGNORECASE,
    )
    for closer in (None, *_OPEN_QUOTES.values())
}
# Where a tail may start: white space, or the quote that closes a quoted message.
_TAIL_START = {
    closer: re.compile(rf"[\s{re.escape(closer or '')}]")
    for closer in (None, *_OPEN_QUOTES.values())
}


def _may_be_valediction(line: str) -> bool:
    """Whether `line` could still become a signature line. Monotone: once False, False for
    every longer `line`."""
    low = line.lstrip().lower()
    return any(
        word.startswith(low)
        or (low.startswith(word) and len(low.rstrip()) <= len(word) + _VALEDICTION_TEXT)
        for word in _VALEDICTIONS
    )


def _may_be_signature(text: str, start: int = 0) -> bool:
    """Whether `text[start:]`, which starts a line, could still become signature lines. (The
    length is checked first, so that a long text costs nothing.)"""
    if len(text) - start > _TAIL_MAX:
        return False
    text = text[start:]
    lines = text.split("\n")
    return (
        len(text) <= _TAIL_MAX
        and sum(1 for line in lines if line.strip()) <= _TAIL_LINES
        and all(not line.strip() or _may_be_valediction(line) for line in lines)
    )


def _may_be_closing(text: str, start: int, closer: str | None) -> bool:
    """Whether `text[start:]` could still become a closing word: "Lo", "Love", "Love,"…
    Bounded work, however long the text: it looks at most at a closing word and the white
    space after it."""
    if len(text) - start <= _LONGEST_CLOSING:
        low = text[start:].lower()
        if any(word.startswith(low) for word in _CLOSINGS):
            return True
    return _CLOSING_TO_END[closer].match(text, start) is not None


def _is_signature(text: str) -> bool:
    return all(not line.strip() or _VALEDICTION.match(line.strip()) for line in text.split("\n"))


class _Tail:
    """Holds the end of the text while it could still be wrapping after the message."""

    def __init__(self, head: _Head) -> None:
        self._head = head
        self._held = ""
        self._before = ""  # the last character released

    def feed(self, piece: str) -> str:
        text = self._held + piece
        hold = self._hold_from(text)
        out = text[:hold]
        self._held = text[hold:]
        if out:
            self._before = out[-1]
        return out

    @property
    def held(self) -> str:
        return self._held

    def _hold_from(self, text: str) -> int:
        """The earliest position from which `text` could still be a tail.

        Linear in `text`: each candidate costs a bounded look past its white space, and when
        the first position of a run of white space cannot start a tail, no later one in the
        run can (the same rest follows, and a newline or a sentence end before it is only
        seen from the first), so the run is passed over whole."""
        search = _TAIL_START[self._head.closer].search
        match = search(text)
        while match is not None:
            start = match.start()
            rest_at = _SPACE.match(text, start).end()  # type: ignore[union-attr]
            if self._may_be_tail(text, start, rest_at):
                return start
            match = search(text, max(start + 1, rest_at))
        return len(text)

    def _may_be_tail(self, text: str, start: int, rest_at: int) -> bool:
        """Whether `text[start:]`, white space up to `rest_at` and the rest after it, could
        still be a tail."""
        if rest_at == len(text):
            return True
        closer = self._head.closer
        if text[rest_at] == closer:
            # Nothing but white space may follow it on its line, then signature lines.
            blank_to = _SPACE.match(text, rest_at + 1).end()  # type: ignore[union-attr]
            newline = text.find("\n", rest_at + 1, blank_to)
            if newline < 0:
                return blank_to == len(text)
            return _may_be_signature(text, newline + 1)
        if text.find("\n", start, rest_at) >= 0:
            return _may_be_signature(text, rest_at)
        before = text[start - 1] if start else self._before
        return (
            rest_at > start
            and before in _SENTENCE_END
            and _may_be_closing(text, rest_at, self._head.closer)
        )

    def finish(self) -> str:
        text, self._held = self._held, ""
        closer = self._head.closer
        if closer is not None:
            text = self._drop_closing_quote(text, closer)
        lines = text.rstrip().split("\n")
        # A signature left dangling once its placeholder is gone ("Best wishes,"). The first
        # line continues text already released, so it is never one.
        while len(lines) > 1 and (
            not lines[-1].strip()
            or (_VALEDICTION.match(lines[-1].strip()) and lines[-1].rstrip().endswith(","))
        ):
            lines.pop()
        text = "\n".join(lines).rstrip()
        # Only the end can hold it: a search from the start would try every position of a
        # long run of white space, each to its end.
        match = _CLOSING_WORD.search(text, max(0, len(text) - _LONGEST_CLOSING - 2))
        if match is not None:
            start = len(text[: match.start()].rstrip())  # where its white space begins
            before = text[start - 1] if start else self._before
            if before in _SENTENCE_END:
                text = text[:start]
        return text

    @staticmethod
    def _drop_closing_quote(text: str, closer: str) -> str:
        """`text` without the quote that closes a message whose opening quote was dropped."""
        index = text.find(closer)
        while index >= 0:
            same_line, _, signature = text[index + 1 :].partition("\n")
            if not same_line.strip() and _is_signature(signature):
                return text[:index] + text[index + 1 :]
            index = text.find(closer, index + 1)
        log.warning("an opening quote was dropped, but no closing quote ends the message")
        return text


# Past this much white space at the end of the text, more white space alone waits for the next
# piece: each stage looks again at the white space it holds whenever a piece comes, so a run
# of white space fed a little at a time would cost time in the square of its length.
_SPACE_RUN = 256


class Cleanup:
    """The three stages in a row: `feed()` each piece of the reply, then `finish()`."""

    def __init__(self) -> None:
        self._head = _Head()
        self._inline = _Inline()
        self._tail = _Tail(self._head)
        self._space_run = 0  # the white space at the end of what the stages were given
        self._spaces: list[str] = []  # white space not given to them yet

    def feed(self, piece: str) -> str:
        if not piece:
            return ""
        if piece.isspace():
            if self._space_run >= _SPACE_RUN:
                self._spaces.append(piece)
                return ""
            self._space_run += len(piece)
        else:
            self._space_run = len(piece) - len(piece.rstrip())
        if self._spaces:
            piece = "".join(self._spaces) + piece
            self._spaces.clear()
        return self._feed(piece)

    def _feed(self, piece: str) -> str:
        body = self._head.feed(piece)
        return self._tail.feed(self._inline.feed(body)) if body else ""

    @property
    def space_follows(self) -> bool:
        """Whether what was released is followed by white space (held back for now) or by
        the message's end: the tail drops the white space it holds only at the end."""
        return self._tail.held[:1].isspace()

    @property
    def word_ends(self) -> bool:
        """Whether what was released ends a word: white space follows, or the white space
        before a placeholder, which goes with it only before white space, punctuation or the
        end (see `_Inline`)."""
        return (self._tail.held or self._inline.held)[:1].isspace()

    def finish(self) -> str:
        spaces = self._feed("".join(self._spaces))
        self._spaces.clear()
        body = self._head.finish()
        tail = self._tail
        return spaces + tail.feed(self._inline.feed(body) + self._inline.finish()) + tail.finish()
