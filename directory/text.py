"""Text normalisation shared by commune resolution, search and the understanding layer."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["fold", "normalize_place", "sound", "ABBREVIATIONS"]

# Abbreviations people use in place names; FTS5 and rapidfuzz know none of them.
ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes", "s/": "sur"}

_SEPARATORS = re.compile(r"[\s\-‐‑–—_'’`´/.,;:()\"]+")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower-case, strip accents and ligatures, turn punctuation into single spaces."""
    text = text.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    decomposed = unicodedata.normalize("NFKD", text)
    no_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SEPARATORS.sub(" ", no_marks.lower()).strip()


@lru_cache(maxsize=65536)
def normalize_place(text: str) -> str:
    """Fold a place name and expand abbreviations: 'St-Quentin' -> 'saint quentin'."""
    text = re.sub(r"(?i)\bs/", " sur ", text)
    words = fold(text).split()
    return " ".join(ABBREVIATIONS.get(w, w) for w in words)


_SOUNDS = [
    (r"ph", "f"), (r"qu", "k"), (r"c(?=[aou])", "k"), (r"ck", "k"), (r"gu(?=[ei])", "g"), (r"y", "i"),
    (r"eau|au", "o"), (r"ai|ei", "e"), (r"(?<=[a-z])(?:es|e|s|x|t|d|z)(?= |$)", ""), (r"h", ""),
    (r"([a-z])\1", r"\1"),
]


@lru_cache(maxsize=65536)
def sound(text: str) -> str:
    """A rough French sound key, so that "chaunie" meets "Chauny" and "vilers cotteret"
    meets "Villers-Cotterêts": people spell place names as they hear them."""
    key = normalize_place(text)
    for pattern, repl in _SOUNDS:
        key = re.sub(pattern, repl, key)
    return key
