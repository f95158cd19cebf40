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


def place_tokens(text: str) -> list[tuple[str, bool, str]]:
    """The words of normalize_place(text), each with whether the writer capitalised it
    where nothing else asks for a capital (not the first word of a sentence, not a
    message written in capitals: "j'habite à Bu" capitalises a name, "Bu trop" does not),
    and the word as written, in lower case with its accents ("mère", not "mere")."""
    text = re.sub(r"(?i)\bs/", " sur ", text)
    shouting = sum(c.isupper() for c in text) > sum(c.islower() for c in text)
    out: list[tuple[str, bool, str]] = []
    sentence_start = True
    for piece in re.split(r"([.!?\n]+)", text):
        if re.fullmatch(r"[.!?\n]+", piece or "x"):
            sentence_start = True
            continue
        for raw in _SEPARATORS.split(piece):
            if not raw:
                continue
            words = normalize_place(raw).split()
            capital = raw[:1].isupper() and not sentence_start and not shouting
            written = raw.lower() if len(words) == 1 else None
            out.extend((w, capital, written or w) for w in words)
            sentence_start = False
    return out
