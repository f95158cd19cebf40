"""French stems for the search index: FTS5 has no French stemmer of its own."""
from __future__ import annotations

import snowballstemmer

from .text import fold

__all__ = ["stems_of", "stem_words"]

_STEMMER = snowballstemmer.stemmer("french")


def stem_words(text: str) -> list[str]:
    return [_STEMMER.stemWord(w) for w in fold(text).split() if len(w) > 2]


def stems_of(text: str) -> str:
    return " ".join(sorted(set(stem_words(text))))
