"""Loading and checking cues.yml (the situation cues: named regexes over normalised text),
every problem reported at once with the file, the line and a suggestion (`bot.yamlcheck`).

`bot/situation.py` reads the cues; it can call `load_cues` to get these reports.
"""
from __future__ import annotations

import re
from pathlib import Path

from .yamlcheck import Checker, YamlFileError, load_checked

__all__ = ["CUES_PATH", "CuesError", "load_cues"]

CUES_PATH = Path(__file__).with_name("cues.yml")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class CuesError(YamlFileError):
    """An invalid cues.yml: every problem with the file, the line and the cue's name."""


def load_cues(path: Path | str = CUES_PATH) -> dict[str, re.Pattern[str]]:
    """The compiled cues by name, in file order; CuesError lists every problem."""
    path = Path(path)
    check = Checker(path)
    doc = load_checked(path, check)
    cues: dict[str, re.Pattern[str]] = {}
    if doc is not None:
        if not isinstance(doc, dict) or not isinstance(doc.get("cues"), dict):
            check.add(doc, "expected a mapping 'cues:' of name: regex")
        else:
            check.keys(doc, ("cues",), "the file")
            raw = doc["cues"]
            for name, source in raw.items():
                check.entry = str(name)
                if not isinstance(name, str) or not _NAME.match(name):
                    check.add(raw, "a cue's name is lower case letters, digits and _", str(name))
                if not isinstance(source, str) or not source.strip():
                    check.add(raw, "a cue is a non-empty regex over normalised text", str(name))
                    continue
                if re.sub(r"\\.", "", source) != re.sub(r"\\.", "", source).lower():  # \W, \S are fine
                    check.add(raw, "the text is normalised to lower case: upper-case letters never match", str(name))
                compiled = check.regex(raw, str(name), source)
                if compiled is not None:
                    cues[str(name)] = compiled
    check.raise_if_any(CuesError)
    return cues
