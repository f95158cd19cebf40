"""French stems for the search index: FTS5 has no French stemmer of its own."""
from __future__ import annotations

import threading

import snowballstemmer

from .text import fold

__all__ = ["stems_of", "stem_words"]

# A snowball stemmer keeps the word it works on in itself: two threads sharing one
# corrupt each other's words (IndexError). One stemmer per thread.
_local = threading.local()


def _stemmer():
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("french")
    return stemmer


def stem_words(text: str) -> list[str]:
    stemmer = _stemmer()
    return [stemmer.stemWord(w) for w in fold(text).split() if len(w) > 2]


def stems_of(text: str) -> str:
    return " ".join(sorted(set(stem_words(text))))
