"""Guessing the message's language from its script, or from the browser's Accept-Language."""

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

NAMES = {
    "ko": "Korean",
    "en": "English",
    "ja": "Japanese",
    "zh": "Chinese",
    "ru": "Russian",
    "el": "Greek",
    "he": "Hebrew",
    "ar": "Arabic",
    "hi": "Hindi",
    "th": "Thai",
    "fr": "French",
    "de": "German",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "vi": "Vietnamese",
    "id": "Indonesian",
    "tr": "Turkish",
    "nl": "Dutch",
    "pl": "Polish",
}


def detect_language(text: str) -> str | None:
    """The language a non-Latin script implies, or None (Latin text could be anything)."""
    for tag, pattern in _SCRIPTS:
        if pattern.search(text):
            return tag
    return None


def from_accept_language(header: str | None) -> str | None:
    """The highest-weighted concrete language in an Accept-Language header."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip()
        if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*", tag):
            continue  # also skips "*"
        match = re.search(r"q=([0-9]+(?:\.[0-9]*)?)", params)
        weight = float(match.group(1)) if match else 1.0
        if weight > 0:
            # Earlier entries win ties: browsers list them in preference order.
            ranked.append((weight, -index, tag.split("-")[0].lower()))
    return max(ranked)[2] if ranked else None


def language_name(tag: str) -> str:
    """An English name for the prompt ("Korean"), or the tag itself when we have none."""
    return NAMES.get(tag.split("-")[0].lower(), tag)
