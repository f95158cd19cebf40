"""Loading and checking danger.yml: the reviewed patterns and guards, compiled.

Every problem of the file is reported at once, each with the file, the line, the entry's
id and, when a close known value exists, a suggestion (`bot.yamlcheck`). An invalid file
is refused: the bot does not start without its danger rules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.normalize import squeeze_regex
from bot.yamlcheck import Checker, YamlFileError, load_checked, suggest

from .matching import WordRegex

__all__ = ["CERTAIN", "POSSIBLE", "LEVELS", "Pattern", "Guard", "Lexicon", "DangerLexiconError", "load_lexicon"]

CERTAIN, POSSIBLE = "certain", "possible"
LEVELS = (CERTAIN, POSSIBLE)
# Sections of patterns: "danger" gives certain danger (possible when a guard or a missing
# present marker says so), "possible" gives possible danger, "distress" gives distress.
SECTIONS = ("danger", "possible", "distress")
FLAGS = ("danger", "distress")  # what guards apply to ("danger" covers both levels)
GUARD_KINDS = ("negation_before", "negation_after", "now", "time", "safety", "frame", "idiom")
REQUIRED_GUARDS = ("negation_before", "negation_after", "now")
PATTERN_KEYS = {
    "danger": ("id", "pattern", "note", "needs_now", "present", "unless", "without_now", "whole_clause"),
    "possible": ("id", "pattern", "note", "unless", "whole_clause"),
    "distress": ("id", "pattern", "note", "needs_now", "present", "unless", "whole_clause"),
}
GUARD_KEYS = ("id", "kind", "pattern", "note", "applies_to", "unless", "leaves")
FILE_KEYS = ("version", "define", "danger", "possible", "distress", "guards")
_ID = re.compile(r"^[a-z][a-z0-9_.]*$")
_FRAGMENT = re.compile(r"\{([a-z_]+)\}")
NONE = "none"  # written in the file for "no danger left" (leaves: none)


class DangerLexiconError(YamlFileError):
    """An invalid danger.yml: every problem with the file, the line and the entry's id."""


@dataclass(frozen=True)
class Pattern:
    id: str
    section: str  # danger | possible | distress
    regex: WordRegex
    needs_now: bool  # certain only when the clause also holds a present marker
    present: bool  # the words themselves say "now": past or habitual time does not cancel them
    unless: re.Pattern[str] | None  # a clause-level exception for this pattern alone
    without_now: str | None  # the level left when needs_now is not met (None or "possible")


@dataclass(frozen=True)
class Guard:
    id: str
    kind: str
    regex: WordRegex | re.Pattern[str]  # a plain regex for negation_after only
    applies_to: frozenset[str]
    unless: re.Pattern[str] | None
    leaves: str | None  # time and frame guards: the danger level they leave (None: no danger)


@dataclass(frozen=True)
class Lexicon:
    path: Path
    patterns: dict[str, tuple[Pattern, ...]]  # by section
    guards: dict[str, tuple[Guard, ...]]  # by kind

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(p.id for ps in self.patterns.values() for p in ps) | {
            g.id for gs in self.guards.values() for g in gs}


class _Loader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.check = Checker(path)
        self.fragments: dict[str, str] = {}
        self.seen: dict[str, int | None] = {}

    def source(self, entry: dict, key: str) -> str | None:
        """The regex source of `key` (a regex or a list of them), fragments inserted."""
        raw = entry.get(key)
        parts = [raw] if isinstance(raw, str) else raw
        if not isinstance(parts, list) or not parts or not all(isinstance(p, str) and p.strip() for p in parts):
            self.check.add(entry, f"'{key}' must be a non-empty regex or list of regexes", key)
            return None
        text = "|".join(f"(?:{p})" for p in parts) if len(parts) > 1 else parts[0]
        unknown: list[str] = []
        for _ in range(5):  # fragments may use fragments
            def sub(m: re.Match[str]) -> str:
                if m.group(1) not in self.fragments:
                    unknown.append(m.group(1))
                    return m.group(0)
                return f"(?:{self.fragments[m.group(1)]})"
            text = _FRAGMENT.sub(sub, text)
        for name in dict.fromkeys(unknown):
            self.check.add(entry, f"unknown fragment {{{name}}} in '{key}'", key,
                           suggestion=suggest(name, self.fragments))
        return None if unknown else text

    def compiled(self, entry: dict, key: str) -> re.Pattern[str] | None:
        text = self.source(entry, key)
        return None if text is None else self.check.regex(entry, key, squeeze_regex(text))

    def word_regex(self, entry: dict, key: str, whole: bool) -> WordRegex | None:
        text = self.source(entry, key)
        if text is None:
            return None
        text = squeeze_regex(text)
        if self.check.regex(entry, key, text) is None:
            return None
        if not whole and re.search(r"(?<![\\\[])\^", text):
            self.check.add(entry, f"'{key}' uses ^ but patterns match at word starts: "
                                  "write 'whole_clause: true' for a pattern that must be the whole clause", key)
            return None
        return WordRegex(text, whole=whole)

    def entry_id(self, entry: Any, section: str, index: int, keys: tuple[str, ...]) -> str | None:
        self.check.entry = None
        if not isinstance(entry, dict):
            self.check.add(entry, f"{section}[{index}]: expected a mapping with id, pattern and note")
            return None
        eid = entry.get("id")
        if not isinstance(eid, str) or not _ID.match(eid):
            self.check.add(entry, f"{section}[{index}]: missing or malformed id {eid!r} "
                                  "(lower case letters, digits, _ and .)", "id")
            return None
        self.check.entry = eid
        if eid in self.seen:
            where = f" (first at line {self.seen[eid]})" if self.seen[eid] else ""
            self.check.add(entry, f"duplicate id{where}", "id")
        self.seen.setdefault(eid, entry.line if hasattr(entry, "line") else None)
        if not isinstance(entry.get("note"), str) or not entry["note"].strip():
            self.check.add(entry, "missing note (say in English what the entry catches)", "note")
        self.check.keys(entry, keys, f"an entry of '{section}'")
        return eid

    def pattern(self, entry: dict, section: str, index: int) -> Pattern | None:
        pid = self.entry_id(entry, section, index, PATTERN_KEYS[section])
        if pid is None:
            return None
        c = self.check
        needs_now, present = c.boolean(entry, "needs_now"), c.boolean(entry, "present")
        whole = c.boolean(entry, "whole_clause")
        without_now = None
        if "without_now" in entry:
            without_now = c.choice(entry, "without_now", (POSSIBLE, NONE), NONE)
            if not needs_now:
                c.add(entry, "'without_now' only means something with 'needs_now: true'", "without_now")
            without_now = None if without_now == NONE else without_now
        unless = self.compiled(entry, "unless") if "unless" in entry else None
        regex = self.word_regex(entry, "pattern", whole)
        if regex is None:
            return None
        return Pattern(pid, section, regex, needs_now, present, unless, without_now)

    def guard(self, entry: dict, index: int) -> Guard | None:
        gid = self.entry_id(entry, "guards", index, GUARD_KEYS)
        if gid is None:
            return None
        c = self.check
        kind = c.choice(entry, "kind", GUARD_KINDS)
        applies = entry.get("applies_to", ["danger"])
        if not isinstance(applies, list) or not applies or set(applies) - set(FLAGS):
            c.add(entry, "'applies_to' must list danger and/or distress", "applies_to")
            applies = ["danger"]
        leaves = None
        if "leaves" in entry:
            leaves = c.choice(entry, "leaves", (POSSIBLE, NONE), NONE)
            if kind not in ("time", "frame"):
                c.add(entry, "'leaves' only means something for guards of kind 'time' or 'frame'", "leaves")
            leaves = None if leaves == NONE else leaves
        unless = self.compiled(entry, "unless") if "unless" in entry else None
        # Guards match at word starts too, but for negation_after, which reads what follows
        # a match from its very first character ("^\s*pas").
        regex = (self.compiled(entry, "pattern") if kind == "negation_after"
                 else self.word_regex(entry, "pattern", False))
        if regex is None or kind is None:
            return None
        return Guard(gid, kind, regex, frozenset(applies), unless, leaves)

    def load(self) -> Lexicon:
        c = self.check
        data = load_checked(self.path, c)
        if data is None:
            c.raise_if_any(DangerLexiconError)
        if not isinstance(data, dict):
            c.add(data, "expected a mapping with define, danger, possible, distress and guards")
            c.raise_if_any(DangerLexiconError)
        c.keys(data, FILE_KEYS, "the file")
        fragments = data.get("define") or {}
        if not isinstance(fragments, dict) or not all(isinstance(v, str) for v in fragments.values()):
            c.add(data, "'define' must be a mapping of name: regex", "define")
        else:
            self.fragments = dict(fragments)
        patterns: dict[str, tuple[Pattern, ...]] = {}
        for section in SECTIONS:
            entries = data.get(section, [] if section == "possible" else None)
            if not isinstance(entries, list) or (not entries and section != "possible"):
                c.entry = None
                c.add(data, f"'{section}' must be a non-empty list of patterns", section)
                entries = []
            found = (self.pattern(e, section, i) for i, e in enumerate(entries))
            patterns[section] = tuple(p for p in found if p is not None)
        guards: list[Guard] = []
        raw_guards = data.get("guards") or []
        for i, entry in enumerate(raw_guards if isinstance(raw_guards, list) else []):
            g = self.guard(entry, i)
            if g is not None:
                guards.append(g)
        c.entry = None
        for kind in REQUIRED_GUARDS:
            if not any(g.kind == kind for g in guards):
                c.add(data, f"at least one guard of kind '{kind}' is required", "guards")
        c.raise_if_any(DangerLexiconError)
        return Lexicon(self.path, patterns, {k: tuple(g for g in guards if g.kind == k) for k in GUARD_KINDS})


def load_lexicon(path: Path | str) -> Lexicon:
    """The lexicon of this file; DangerLexiconError lists every problem."""
    return _Loader(Path(path)).load()
