"""The message's language: a client's BCP 47 tag checked and named from our own table, or a
guess from the fields' script or the browser's Accept-Language."""

from __future__ import annotations

import re

# Checked in order: kana before Han, since Japanese mixes both.
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ko", re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")),
    ("ja", re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("el", re.compile(r"[\u0370-\u03ff]")),
    ("he", re.compile(r"[\u0590-\u05ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("hi", re.compile(r"[\u0900-\u097f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
)

#: The languages we write in, by primary language subtag, each under the English name the prompt
#: gives it. A request's `language` must name one of these (else 422); the model is only ever
#: told a name from this table, never the client's tag.
NAMES = {
    "ko": "Korean",
    "en": "English",
    "ja": "Japanese",
    "zh": "Chinese",
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "pt": "Portuguese",
    "it": "Italian",
    "ru": "Russian",
    "vi": "Vietnamese",
    "th": "Thai",
    "id": "Indonesian",
    "ms": "Malay",
    "fil": "Filipino",
    "tl": "Tagalog",
    "hi": "Hindi",
    "bn": "Bengali",
    "ur": "Urdu",
    "ta": "Tamil",
    "te": "Telugu",
    "ar": "Arabic",
    "fa": "Persian",
    "he": "Hebrew",
    "tr": "Turkish",
    "el": "Greek",
    "nl": "Dutch",
    "pl": "Polish",
    "uk": "Ukrainian",
    "cs": "Czech",
    "sk": "Slovak",
    "hu": "Hungarian",
    "ro": "Romanian",
    "bg": "Bulgarian",
    "hr": "Croatian",
    "sr": "Serbian",
    "sl": "Slovenian",
    "sv": "Swedish",
    "da": "Danish",
    "no": "Norwegian",
    "nb": "Norwegian",
    "nn": "Norwegian Nynorsk",
    "fi": "Finnish",
    "et": "Estonian",
    "lv": "Latvian",
    "lt": "Lithuanian",
    "ca": "Catalan",
    "mn": "Mongolian",
    "km": "Khmer",
    "my": "Burmese",
    "sw": "Swahili",
}

#: Where the script or the region changes what the model should write.
_TRADITIONAL = ("TW", "HK", "MO")
_SIMPLIFIED = ("CN", "SG", "MY")
_REGIONAL = {("pt", "BR"): "Brazilian Portuguese", ("pt", "PT"): "European Portuguese"}

MAX_TAG_LENGTH = 35  # RFC 5646 4.4.1: the length every implementation must be able to hold

# RFC 5646 section 2.1, the `langtag` production (matched case-insensitively, ASCII only).
_LANGTAG = re.compile(
    r"""
    (?P<language> [a-z]{2,3} (?:-[a-z]{3}){0,3}    # ISO 639 code, then up to 3 extlangs
                | [a-z]{4,8} )                      # reserved, or registered
    (?:-(?P<script> [a-z]{4} ))?
    (?:-(?P<region> [a-z]{2} | [0-9]{3} ))?
    (?:-(?: [a-z0-9]{5,8} | [0-9][a-z0-9]{3} ))*    # variants
    (?:-[0-9a-wyz] (?:-[a-z0-9]{2,8})+ )*           # extensions: a singleton, then subtags
    (?:-x (?:-[a-z0-9]{1,8})+ )?                    # private use
    """,
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)
# The other well-formed tags: private use alone, and the grandfathered tags (RFC 5646 2.2.8).
# Those that `langtag` does not also match (x-…, i-klingon, en-GB-oed…) name no language of
# ours: they are refused as unknown, not as malformed.
_PRIVATE_USE = re.compile(r"x(?:-[a-z0-9]{1,8})+", re.IGNORECASE | re.ASCII)
_GRANDFATHERED = frozenset(
    (
        *("en-gb-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon"),
        *("i-lux", "i-mingo", "i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu"),
        *("sgn-be-fr", "sgn-be-nl", "sgn-ch-de", "art-lojban", "cel-gaulish", "no-bok"),
        *("no-nyn", "zh-guoyu", "zh-hakka", "zh-min", "zh-min-nan", "zh-xiang"),
    )
)

_MALFORMED = "must be a BCP 47 language tag such as ko, en or ja"
_UNKNOWN = "must be a language we write in: " + ", ".join(NAMES)


def normalise_tag(value: str) -> str:
    """A well-formed BCP 47 tag of a language we know, in its conventional case (`zh-Hant-TW`).

    Raises ValueError, whose message is the field's error, for anything else: a tag longer than
    35 characters, one that is not well-formed, or one whose language is not in NAMES."""
    if len(value) > MAX_TAG_LENGTH:
        raise ValueError(f"must be at most {MAX_TAG_LENGTH} characters")
    if not value.isascii():
        raise ValueError(_MALFORMED)
    match = _LANGTAG.fullmatch(value)
    if match is None:
        if _PRIVATE_USE.fullmatch(value) or value.lower() in _GRANDFATHERED:
            raise ValueError(_UNKNOWN)
        raise ValueError(_MALFORMED)
    if match["language"].split("-")[0].lower() not in NAMES:
        raise ValueError(_UNKNOWN)
    return _conventional_case(value)


def _conventional_case(tag: str) -> str:
    """RFC 5646 2.1.1: lower case, but a script in title case and a region in upper case, up to
    the first singleton (whose subtags stay lower case)."""
    parts = tag.lower().split("-")
    for index, part in enumerate(parts[1:], start=1):
        if len(part) == 1:
            break
        if len(part) == 4 and part.isalpha():
            parts[index] = part.title()
        elif len(part) == 2:
            parts[index] = part.upper()
    return "-".join(parts)


def detect_language(text: str) -> str | None:
    """The language a non-Latin script implies, or None (Latin text could be anything)."""
    for tag, pattern in _SCRIPTS:
        if pattern.search(text):
            return tag
    return None


def from_accept_language(header: str | None) -> str | None:
    """The highest-weighted language we know in an Accept-Language header, as its primary tag."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        try:
            primary = normalise_tag(tag.strip()).split("-")[0]
        except ValueError:
            continue  # also skips "*", and languages we do not write in
        match = re.search(r"q=([0-9]+(?:\.[0-9]*)?)", params)
        weight = float(match.group(1)) if match else 1.0
        if weight > 0:
            # Earlier entries win ties: browsers list them in preference order.
            ranked.append((weight, -index, primary))
    return max(ranked)[2] if ranked else None


def language_name(tag: str) -> str:
    """Our English name for a tag's language ("Korean", "Traditional Chinese").

    Only ever a name from our own tables: a tag whose language we do not know raises
    ValueError (requests are validated before this, so that is a bug, not a client's error)."""
    match = _LANGTAG.fullmatch(normalise_tag(tag))
    assert match is not None  # normalise_tag has matched it
    primary, script, region = match["language"].split("-")[0], match["script"], match["region"]
    if primary == "zh":
        if script == "Hant" or (script is None and region in _TRADITIONAL):
            return "Traditional Chinese"
        if script == "Hans" or (script is None and region in _SIMPLIFIED):
            return "Simplified Chinese"
    return _REGIONAL.get((primary, region or ""), NAMES[primary])
