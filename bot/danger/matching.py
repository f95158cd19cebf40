"""Patterns matched where a word starts.

The lexicon's patterns name words: a match starts at the beginning of a clause or right
after a space (normalised text has single spaces between words). Searching " " + clause
for " (?:pattern)" finds exactly those matches, and lets the regex engine jump from space
to space (a literal first character).

Lookbehinds ("not after je", "not after a") and word boundaries are tried at every word
start, which is slow, and they keep the engine from checking the first letter of each
alternative at once. So each pattern is searched first without its zero-width assertions
(`without_assertions`: they only ever remove matches), and the full pattern is tried only
where that wider search finds a word start: the same matches, found quicker. Only the public `re` API is used.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from typing import Iterator

__all__ = ["Hit", "WordRegex", "Clauses", "without_assertions"]


@dataclass(frozen=True)
class Hit:
    """Where a pattern matched in a clause."""

    start: int
    end: int

    def span(self) -> tuple[int, int]:
        return self.start, self.end


def without_assertions(source: str) -> str:
    """The regex source without its zero-width assertions: lookbehinds, lookaheads,
    \\b and \\B. They only ever remove matches, so this wider regex finds every match
    of the source, and more.

    Read character by character: escapes and character classes are skipped as wholes, and a
    lookbehind ends at its matching parenthesis."""
    out: list[str] = []
    i, n = 0, len(source)
    depth_skip = 0  # > 0 while inside a lookbehind being removed
    while i < n:
        c = source[i]
        if c == "\\":
            if not depth_skip and source[i + 1 : i + 2] not in ("b", "B"):
                out.append(source[i : i + 2])
            i += 2
            continue
        if c == "[":
            j = i + 1
            if j < n and source[j] == "^":
                j += 1
            if j < n and source[j] == "]":
                j += 1
            while j < n and source[j] != "]":
                j += 2 if source[j] == "\\" else 1
            if not depth_skip:
                out.append(source[i : j + 1])
            i = j + 1
            continue
        if source.startswith(("(?<=", "(?<!"), i) or source.startswith(("(?=", "(?!"), i):
            depth_skip += 1
            i += 4 if source[i + 2] == "<" else 3
            continue
        if c == "(" and depth_skip:
            depth_skip += 1
        elif c == ")" and depth_skip:
            depth_skip -= 1
            i += 1
            continue
        if not depth_skip:
            out.append(c)
        i += 1
    return "".join(out)


class Clauses:
    """The clauses of a message, each as " " + clause, and all of them joined by newlines,
    so that a pattern is searched once per message, not once per clause."""

    __slots__ = ("clauses", "spaced", "joined", "starts")

    def __init__(self, clauses: list[str]) -> None:
        self.clauses = clauses
        self.spaced = [" " + c for c in clauses]
        self.joined = "\n".join(self.spaced)
        self.starts = list(accumulate((len(s) + 1 for s in self.spaced[:-1]), initial=0))

    def at(self, pos: int) -> int:
        """The index of the clause that holds this position of `joined`."""
        return bisect_right(self.starts, pos) - 1


class WordRegex:
    """A pattern matched at word starts (or, if `whole`, against the whole clause)."""

    __slots__ = ("source", "whole", "_compiled", "_wide")

    def __init__(self, source: str, *, whole: bool = False) -> None:
        self.source, self.whole = source, whole
        self._compiled = re.compile(source if whole else f" (?:{source})")
        self._wide: re.Pattern[str] | None = None
        if not whole:
            wide = without_assertions(source)
            try:
                # multiline: "$" also matches at the end of each clause of a joined message
                self._wide = re.compile(f"(?m) (?:{wide})")
            except re.error:
                self._wide = None  # the full pattern alone, at every word start

    def finditer(self, clause: str) -> Iterator[Hit]:
        return iter(self.hits(clause, " " + clause))

    def hits(self, clause: str, spaced: str) -> list[Hit]:
        """The matches in this clause; `spaced` is " " + clause (made once per clause)."""
        if self.whole:
            return [Hit(0, len(clause))] if self._compiled.fullmatch(clause) else []
        wide, full = self._wide or self._compiled, self._compiled
        candidate = wide.search(spaced)
        if candidate is None:  # most patterns, most clauses
            return []
        out: list[Hit] = []
        while candidate is not None:
            # The full pattern can only match where the wider one does; its lookbehinds
            # still see the text before the candidate. In " " + clause, a match starts at
            # the space before the word: that index is the word's index in the clause.
            m = full.match(spaced, candidate.start()) if wide is not full else candidate
            if m is None:
                candidate = wide.search(spaced, candidate.start() + 1)
                continue
            out.append(Hit(m.start(), max(m.end() - 1, m.start())))
            # as finditer: the next match starts after this one
            candidate = wide.search(spaced, max(m.end(), m.start() + 1))
        return out

    def message_hits(self, message: Clauses) -> list[tuple[int, Hit]]:
        """The matches in every clause, as (clause index, hit), the wide pattern searched
        once over the joined clauses."""
        if self.whole or self._wide is None:
            return [(ci, h) for ci, c in enumerate(message.clauses) for h in self.hits(c, message.spaced[ci])]
        wide, full, joined = self._wide, self._compiled, message.joined
        candidate = wide.search(joined)
        out: list[tuple[int, Hit]] = []
        while candidate is not None:
            ci = message.at(candidate.start())
            local = candidate.start() - message.starts[ci]
            m = full.match(message.spaced[ci], local)  # in the clause alone, as a clause is read
            if m is None:
                candidate = wide.search(joined, candidate.start() + 1)
                continue
            out.append((ci, Hit(m.start(), max(m.end() - 1, m.start()))))
            candidate = wide.search(joined, message.starts[ci] + max(m.end(), m.start() + 1))
        return out

    def search(self, clause: str) -> Hit | None:
        return next(self.finditer(clause), None)
