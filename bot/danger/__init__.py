"""Deterministic danger and distress detection (runs before any other understanding).

`detect(text)` tells the danger level of a message and whether the person shows suicidal
thoughts or acute distress (the reply gives 3114):

* certain: someone is in danger now, as the person says it (an attack going on, a weapon,
  someone at the door, locked in, being followed now, "il va me tuer"): the reply starts
  with 17 / 112 / SMS 114;
* possible: violence that goes on, threats, fear of what comes next, violence reported
  about someone else or just told in the past: the dialogue asks whether the person is
  safe now, and never says "vous êtes en danger" unless the person says or answers so;
* None: nothing of the kind.

The rules are data (`bot/danger.yml`, checked by `lexicon`), read clause by clause
(`reading`) on normalised text (`bot.normalize`), patterns matched at word starts
(`matching`). Only the public `re` API is used.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .lexicon import CERTAIN, LEVELS, POSSIBLE, DangerLexiconError, Lexicon, load_lexicon
from .reading import read

__all__ = ["Flags", "detect", "CERTAIN", "POSSIBLE", "LEVELS", "Lexicon", "DangerLexiconError",
           "load_lexicon", "LEXICON", "LEXICON_PATH"]

LEXICON_PATH = Path(__file__).resolve().parent.parent / "danger.yml"


@dataclass(frozen=True)
class Flags:
    danger: bool  # certain danger: danger_level == "certain"
    distress: bool
    danger_evidence: tuple[str, ...] = ()  # ids of the patterns that gave certain danger (never the text)
    distress_evidence: tuple[str, ...] = ()
    danger_level: str | None = None  # "certain" | "possible" | None
    possible_evidence: tuple[str, ...] = ()  # ids of the patterns that gave possible danger

    def __post_init__(self) -> None:
        if self.danger != (self.danger_level == CERTAIN) and not (self.danger and self.danger_level is None):
            raise ValueError("danger must be True exactly when danger_level is 'certain'")
        if self.danger and self.danger_level is None:
            object.__setattr__(self, "danger_level", CERTAIN)  # Flags(True, ...) means certain


def flags_of(lexicon: Lexicon, text: str) -> Flags:
    r = read(lexicon, text)
    return Flags(danger=r.level == CERTAIN, distress=r.distress, danger_evidence=r.certain_ids,
                 distress_evidence=r.distress_ids, danger_level=r.level, possible_evidence=r.possible_ids)


LEXICON = load_lexicon(LEXICON_PATH)  # an invalid danger.yml fails here, at import, listing every problem


def detect(text: str) -> Flags:
    """Danger level and distress of a message. Pure, deterministic, fast."""
    return flags_of(LEXICON, text)
