"""Making a model's reply send-ready while it streams: no preamble, title, wrapping quotes,
markdown emphasis, placeholder or placeholder signature.

The whole reply so far is cleaned on every piece, and only the part that no later text can
change is released. Text is held back only while it could still turn out to be wrapping: the
first line while it might be a preamble ("Sure! Here's…", "물론이죠! 다음은…"), an opening
bracket that might start "[Your Name]", a last line that might be a signature, closing
quotes and white space at the end.
"""

from __future__ import annotations

import re

_OPENERS = (
    "sure",
    "certainly",
    "of course",
    "absolutely",
    "okay",
    "ok",
    "here's",
    "here is",
    "here are",
    "below is",
    "i'd be happy",
    "i would be happy",
    "i'd love",
    "great",
    "물론",
    "네,",
    "네!",
    "다음은",
    "여기",
    "아래는",
    "좋아요",
    "알겠습니다",
)
# A first line that is only talk about the message, not the message itself.
_INTERJECTION = (
    r"(?:sure|certainly|of\ course|absolutely|okay|ok|great|물론이죠|물론입니다|물론|네|좋아요|"
    r"알겠습니다)"
)
_PREAMBLE = re.compile(
    rf"""^{_INTERJECTION}\s*[!.,~]?\s*$                                    # "Sure!" alone
        |^{_INTERJECTION}\s*[!.,~]\s*.{{0,150}}:\s*$                        # "Sure! Here's …:"
        |^(?:here(?:'s|\ is|\ are)|below\ is|i'd|i\ would|happy\ to).{{0,150}}:\s*$
        |^(?:다음은|여기|아래는).{{0,80}}(?:메시지|문구|인사|내용).{{0,20}}[:.]?\s*$
        |^.{{0,150}}(?:message|메시지|문구)[^.!?\n]{{0,40}}:\s*$
    """,
    re.IGNORECASE | re.VERBOSE,
)
_INLINE_PREAMBLE = re.compile(
    rf"^{_INTERJECTION}[!.,]?\s*(?:here(?:'s| is)|다음은)[^:\n]{{0,120}}:\s*", re.IGNORECASE
)
_TITLE = re.compile(r"^(?:#{1,6}\s.*|\*\*[^*]{1,80}\*\*\s*|subject:.*|제목\s*:.*)$", re.IGNORECASE)
_PLACEHOLDER = re.compile(
    r"\s*[\[<{(]\s*(?:your|my|sender'?s?|recipient'?s?|their|insert)?\s*(?:full\s+)?"
    r"(?:name|signature|이름|보내는\s*사람)\s*[\]>})]",
    re.IGNORECASE,
)
_VALEDICTION = re.compile(
    r"^(?:best|warm(?:est)?|kind|love|with love|lots of love|all my love|cheers|sincerely|yours|"
    r"regards|hugs|xoxo|fondly|[-–—]|사랑을 담아|사랑해|진심을 담아|from)\b.{0,30}$",
    re.IGNORECASE,
)
# "Love," or "Best wishes," closing a one-line message (its placeholder already removed).
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
_CLOSING_WORD = re.compile(rf"(?<=[.!?])\s+(?:{'|'.join(_CLOSINGS)}),?\s*$", re.IGNORECASE)
_LAST_WORDS = re.compile(r"(?<=[.!?])\s+(\S[^.!?\n]{0,20})$")


def _may_become_closing(body: str) -> int:
    """Where a closing word that is still being written starts ("… Lo" of "Love,"), or -1."""
    match = _LAST_WORDS.search(body)
    if match:
        words = match.group(1).lower().rstrip(", ")
        if any(closing.startswith(words) or words.startswith(closing) for closing in _CLOSINGS):
            return match.start()
    return -1


_OPEN_QUOTES = {'"': '"', "“": "”", "'": "'", "「": "」", "『": "』", "‘": "’"}
_MAX_HEAD = 200


def _could_open_preamble(line: str) -> bool:
    low = line.lower()
    return (
        any(o.startswith(low) or low.startswith(o) for o in _OPENERS)
        or low.startswith(("#", "*", "subject", "제목"))
        or any(word in low for word in ("message", "메시지", "문구"))  # "…a message for you:"
    )


def _strip_head(text: str, final: bool) -> str | None:
    """The text after any preamble and title lines, or None while that is still unknown."""
    for _ in range(3):  # e.g. a preamble, then a title
        text = text.lstrip()
        line, newline, rest = text.partition("\n")
        if not newline and not final:
            if len(line) < _MAX_HEAD and _could_open_preamble(line):
                return None
            return text
        # "Sure! Here's a message for you: Happy birthday…" on one line.
        match = _INLINE_PREAMBLE.match(line)
        if match and match.end() < len(line.rstrip()):
            return text[match.end() :]
        if _PREAMBLE.search(line.strip()) or _TITLE.match(line.strip()):
            text = rest
            continue
        return text
    return text


# A piece with none of these cannot change how the text before it is cleaned; its trailing
# spaces (group 2) are held back, like any text's, until more text follows.
_PLAIN = re.compile(
    r"([^\[\]<>{}()*_\n.!?,\"'“”‘’「」『』:~]*[^\s\[\]<>{}()*_\n.!?,\"'“”‘’「」『』:~])"
    r"([^\S\n]*)"
)


class Cleanup:
    def __init__(self) -> None:
        self._raw = ""
        self._out = ""  # what has been released: never taken back
        # The last release held back nothing but `_spaces` (no newline), and no quote is open.
        self._clear = False
        self._spaces = ""

    def feed(self, piece: str) -> str:
        self._raw += piece
        # (Unless a sentence ended just before: its next words may be "Love, [Your Name]".)
        if self._clear and (plain := _PLAIN.fullmatch(piece)) and not self._may_close(piece):
            # The common case, mid-message: plain words go straight out (cleaning the whole
            # text again for every token cost more than anything else we do per token).
            out = self._spaces + plain[1]
            self._out += out
            self._spaces = plain[2]
            return out
        return self._release(final=False)

    def _may_close(self, piece: str) -> bool:
        """Whether the words since the last sentence's end, with this piece, might be
        becoming a closing word ("… Love, [Your Name]"): the one hold the fast path must
        still check."""
        out = self._out
        end = max(out.rfind("."), out.rfind("!"), out.rfind("?"))
        return end >= 0 and _may_become_closing(out[end:] + self._spaces + piece) >= 0

    def finish(self) -> str:
        return self._release(final=True)

    def _release(self, final: bool) -> str:
        text, stable, closing = self._clean(final)
        if not text.startswith(self._out):
            return ""  # cannot happen by design; never send text that contradicts the sent
        out = text[len(self._out) : stable]
        self._out += out
        self._spaces = text[stable:]
        self._clear = (
            bool(self._out)
            and not closing
            and (not self._spaces or (self._spaces.isspace() and "\n" not in self._spaces))
        )
        return out

    def _clean(self, final: bool) -> tuple[str, int, str | None]:
        """The cleaned text so far, how much of it can no longer change, and the quote that
        would close it."""
        body = _strip_head(self._raw, final)
        if body is None:
            return "", 0, None
        closing = _OPEN_QUOTES.get(body[:1])
        if closing:
            body = body[1:]
        body = _PLACEHOLDER.sub("", body.replace("**", "").replace("__", ""))
        if final:
            text = self._finish(body, closing)
            return text, len(text), closing
        held = len(body) - len(body.rstrip())
        if closing and (quote := body.rfind(closing)) >= 0:
            # What follows a closing quote may be a signature to drop with it: wait.
            held = max(held, len(body) - quote)
        # An opening bracket near the end may be the start of "[Your Name]".
        bracket = max(body.rfind(c) for c in "[<{(")
        if (
            bracket >= 0
            and len(body) - bracket < 30
            and not any(c in body[bracket:] for c in "]>})")
        ):
            held = max(held, len(body) - bracket)
        # The last lines, if they might be a signature ("Best wishes,\n[Your Name]"), and a
        # closing word that might lead into a placeholder ("… Love, [Your Name]").
        lines = body.split("\n")
        tail = len(lines[-1])
        for line in reversed(lines[-3:-1]):
            if not line.strip() or _VALEDICTION.match(line.strip()):
                tail += len(line) + 1
            else:
                break
        if len(lines) > 1 and tail > len(lines[-1]):
            held = max(held, tail)
        if (start := _may_become_closing(body)) >= 0:
            held = max(held, len(body) - start)
        if body.endswith(("*", "_")):
            held = max(held, 1)
        stable = max(0, len(body) - held)
        while stable and body[stable - 1].isspace():
            stable -= 1  # white space before held text goes with it
        return body, stable, closing

    @staticmethod
    def _finish(body: str, closing: str | None) -> str:
        text = body.rstrip()
        if closing and (quote := text.rfind(closing)) >= 0:
            after = text[quote + 1 :].strip()
            if not after or all(
                not line.strip() or _VALEDICTION.match(line.strip()) for line in after.split("\n")
            ):
                text = text[:quote].rstrip()
        lines = text.split("\n")
        # A signature left dangling once its placeholder is gone ("Best wishes,").
        while len(lines) > 1 and (
            not lines[-1].strip()
            or (_VALEDICTION.match(lines[-1].strip()) and lines[-1].strip().endswith(","))
        ):
            lines.pop()
        text = "\n".join(lines).strip()
        if (match := _CLOSING_WORD.search(text)) is not None and match.group(0).strip().endswith(
            ","
        ):
            text = text[: match.start()].rstrip()
        return text
