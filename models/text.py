"""Text helpers shared by search, similarity and the pre-screen."""
from __future__ import annotations

import re
import unicodedata

_GERMAN_FOLDS = str.maketrans({"ß": "ss", "ä": "ae", "ö": "oe", "ü": "ue", "ẞ": "ss"})
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case, German umlauts and ß spelled out, other accents dropped.

    "Hörde" and "Hoerde" (and "Straße" and "Strasse") fold to the same text, so a search
    for either finds both, on every database, with a plain LIKE on the folded column.
    """
    lowered = text.lower().translate(_GERMAN_FOLDS)
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def like_pattern(term: str) -> str:
    """A LIKE pattern that matches `term` literally anywhere (escape char: backslash)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def excerpt(text: str, length: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
