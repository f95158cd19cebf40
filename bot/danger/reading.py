"""Reading one message with the lexicon: which patterns fire, and at which level.

The message is cut into clauses (`bot.normalize.clauses`) and made ready for the squeezed
patterns (`bot.normalize.prepare_clauses`). Then, for each match of a pattern:

* it is cancelled (no danger, no distress) by its own `unless`, by a negation right around
  it ("il ne me frappe plus"), by a frame that makes the words not literal (films, games,
  hypotheses, a story told by someone else), by an idiom overlapping it ("mort de rire"),
  and, for danger, by a statement of safety made later in the message ("... mais il est
  parti");
* a "danger" pattern gives certain danger, unless it needs a present marker the clause
  lacks (then it gives its `without_now` level: possible, or nothing), or a past or
  habitual time is near it and no present marker is in the clause (then it gives the time
  guard's `leaves` level: violence that goes on leaves possible danger, a distant past none);
* a "possible" pattern (threats, fear, violence reported about someone else) gives possible
  danger; a distant past cancels it, a habit does not.

The message's level is the highest one found. Recall comes first: a false alarm asks a
question or shows 17/112/114 first, a miss can cost a life.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from bot.normalize import clauses, prepare_clauses

from .lexicon import CERTAIN, POSSIBLE, Guard, Lexicon, Pattern
from .matching import Clauses, Hit

__all__ = ["read"]

_RANK = {None: 0, POSSIBLE: 1, CERTAIN: 2}
_NO_TIME = "no time"
_CANCELLED = "cancelled"

_NEGATION_WORD = re.compile(r"\b(?:pas|plus|jamais|rien)\b")
_SUBJECT = re.compile(r"(?:je|j|il|elle|ils|elles|on|tu)\b")
# Time words bind to the verb near them: "et il", "qui", "puis" start another part of the
# clause ("il m a frappee hier et il revient"), but "se fait taper et insulter tous les
# jours" stays one part. A time word further than _TIME_REACH words from the match is
# about another verb ("le voisin qui me harcele depuis un an ... va me defoncer").
_SUBCLAUSE = re.compile(
    r"\b(?:et(?= (?:il|elle|ils|elles|je|j|on|nous|vous|tu|la|maintenant|depuis|c|ca|y|mon|ma|mes|le|les|un|une|des|quelqu)\b)"
    r"|qui|puis|ensuite|donc|car|parce que)\b"
)
_TIME_REACH = 6


def _subclause(clause: str, pos: int) -> tuple[int, int]:
    """The span of the part of the clause around pos, between 'et il', 'qui', 'puis'..."""
    start, end = 0, len(clause)
    for m in _SUBCLAUSE.finditer(clause):
        if m.end() <= pos:
            start = m.end()
        elif m.start() > pos:
            end = m.start()
            break
    return start, end


@dataclass
class _Message:
    """One message being read: its clauses, which of them hold a present marker, and where
    it states that the person is safe."""

    clauses: list[str]
    guards: dict[str, tuple[Guard, ...]]
    now: set[int] = field(default_factory=set)
    safety: list[tuple[int, int]] = field(default_factory=list)
    _cache: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # guard results, per clause

    def cached(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def any(self, kind: str, flag: str, text: str) -> bool:
        return any(g.regex.search(text) and not (g.unless and g.unless.search(text))
                   for g in self.guards[kind] if flag in g.applies_to)

    def cancelled(self, flag: str, p: Pattern, ci: int, m: Hit) -> bool:
        """Whether a guard says this match is not what it seems (for any level)."""
        clause = self.clauses[ci]
        if p.unless and p.unless.search(clause):
            return True
        if self.negated(clause, m, flag):
            return True
        if self.framed(ci, flag) == _CANCELLED:
            return True
        idioms = self.cached(("idiom", ci, flag), lambda: [
            im.span() for g in self.guards["idiom"] if flag in g.applies_to for im in g.regex.finditer(clause)])
        if any(s < m.end and m.start < e for s, e in idioms):
            return True  # "mourir de rire" cancels "mourir", not a threat elsewhere in the clause
        if flag == "danger" and any((sc, ss) > (ci, m.start) for sc, ss in self.safety):
            return True
        return False

    def framed(self, ci: int, flag: str) -> str | None:
        """_CANCELLED when a frame makes the clause not literal (fiction, a game, a
        hypothesis), POSSIBLE when it is reported (a confidence), else None."""
        def compute() -> str | None:
            clause, found = self.clauses[ci], None
            for g in self.guards["frame"]:
                if flag in g.applies_to and g.regex.search(clause) and not (g.unless and g.unless.search(clause)):
                    if g.leaves is None or flag != "danger":
                        return _CANCELLED
                    found = g.leaves
            return found
        return self.cached(("frame", ci, flag), compute)

    def level(self, p: Pattern, ci: int, m: Hit) -> str | None:
        """The danger level this match gives."""
        if self.cancelled("danger", p, ci, m):
            return None
        if self.framed(ci, "danger") == POSSIBLE:  # "ma fille m a confie que son copain la frappe"
            left = self.time_left(ci, m)
            return POSSIBLE if left in (_NO_TIME, POSSIBLE) else None
        now = ci in self.now
        if p.section == "possible":
            left = self.time_left(ci, m)
            return POSSIBLE if left in (_NO_TIME, POSSIBLE) else None
        level: str | None = CERTAIN
        if p.needs_now and not now:
            level = p.without_now
        if level is not None and not now and not p.present:
            left = self.time_left(ci, m)  # a past or habitual time leaves less, never more
            if left != _NO_TIME and _RANK[left] < _RANK[level]:
                level = left
        return level

    def distress(self, p: Pattern, ci: int, m: Hit) -> bool:
        if p.needs_now and ci not in self.now:
            return False
        return not self.cancelled("distress", p, ci, m)

    def negated(self, clause: str, m: Hit, flag: str) -> bool:
        words = clause[m.start : m.end]
        # A pattern that spells its own negation ("plus envie de vivre") is not negated again.
        if _NEGATION_WORD.search(words):
            return False
        before, after = clause[: m.start], clause[m.end :]
        # A match that starts with its subject ("je prefere me tuer") is not negated by the
        # end of the previous sentence ("... que je connais pas je prefere me tuer").
        if not _SUBJECT.match(words) and self.any("negation_before", flag, before):
            return True
        return self.any("negation_after", flag, after)

    def time_left(self, ci: int, m: Hit) -> str | None:
        """_NO_TIME when no past or habitual time is near the match, in the same part of the
        clause; else the level the nearest time words leave (possible wins over none)."""
        clause = self.clauses[ci]
        start, end = _subclause(clause, m.start)
        part = clause[start:end]
        times = self.cached(("time", ci, start, end), lambda: [
            (t.start + start, t.end + start, g.leaves)
            for g in self.guards["time"] if "danger" in g.applies_to for t in g.regex.finditer(part)])
        left: str | None = _NO_TIME
        for ts, te, leaves in times:
            gap = clause[te : m.start] if te <= m.start else clause[m.end : ts] if ts >= m.end else ""
            if len(gap.split()) <= _TIME_REACH:
                if left == _NO_TIME or _RANK[leaves] > _RANK[left]:
                    left = leaves
        return left


@dataclass(frozen=True)
class Reading:
    level: str | None
    distress: bool
    certain_ids: tuple[str, ...]
    possible_ids: tuple[str, ...]
    distress_ids: tuple[str, ...]


def read(lexicon: Lexicon, text: str) -> Reading:
    if not isinstance(text, str):  # let the caller fail safe (it answers as danger)
        raise TypeError(f"detect() needs a str, not {type(text).__name__}")
    prepared = prepare_clauses(clauses(text))
    joined = Clauses(prepared)
    message = _Message(prepared, lexicon.guards)
    for g in lexicon.guards["now"]:
        for ci, m in g.regex.message_hits(joined):
            if ci not in message.now and not (g.unless and g.unless.search(prepared[ci])):
                message.now.add(ci)
    for g in lexicon.guards["safety"]:
        for ci, m in g.regex.message_hits(joined):
            if not (g.unless and g.unless.search(prepared[ci][m.start :])):
                message.safety.append((ci, m.start))  # cancels danger said before it
    certain: set[str] = set()
    possible: set[str] = set()
    distress: set[str] = set()
    for p in lexicon.patterns["danger"] + lexicon.patterns["possible"]:
        best = None
        for ci, m in p.regex.message_hits(joined):
            got = message.level(p, ci, m)
            if _RANK[got] > _RANK[best]:
                best = got
                if best == CERTAIN:
                    break
        if best == CERTAIN:
            certain.add(p.id)
        elif best == POSSIBLE:
            possible.add(p.id)
    for p in lexicon.patterns["distress"]:
        if any(message.distress(p, ci, m) for ci, m in p.regex.message_hits(joined)):
            distress.add(p.id)
    level = CERTAIN if certain else POSSIBLE if possible else None
    return Reading(level, bool(distress), tuple(sorted(certain)), tuple(sorted(possible)), tuple(sorted(distress)))
