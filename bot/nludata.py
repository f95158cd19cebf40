"""Read the project's training data (Rasa NLU YAML) and held-out messages."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from directory import DATA_DIR

__all__ = ["Example", "read_nlu", "read_heldout", "strip_annotations", "NLU_FILE", "HELDOUT_FILE"]

NLU_FILE = DATA_DIR / "nlu.yml"
HELDOUT_FILE = DATA_DIR / "nlu_heldout.yml"

# [text](entity) | [text](entity:value) | [text]{"entity": ..., "value": ...}
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\(([^)]+)\)|(\{[^}]*\}))")


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    entities: tuple[tuple[str, str, str | None], ...] = field(default=())  # (entity, words, value)


def strip_annotations(line: str) -> tuple[str, tuple]:
    entities = []

    def repl(m: re.Match) -> str:
        words = m.group(1)
        if m.group(2):
            name, _, value = m.group(2).partition(":")
            entities.append((name, words, value or None))
        else:
            spec = json.loads(m.group(3))
            entities.append((spec["entity"], words, spec.get("value")))
        return words

    return _ANNOTATION.sub(repl, line), tuple(entities)


def read_nlu(path: Path = NLU_FILE) -> list[Example]:
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    out = []
    for block in doc.get("nlu", []):
        if "intent" not in block:
            continue
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                text, ents = strip_annotations(line[2:].strip())
                out.append(Example(text, block["intent"], ents))
    return out


def read_heldout(path: Path = HELDOUT_FILE) -> list[dict]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))["messages"]
