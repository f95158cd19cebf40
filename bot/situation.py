"""The situation classifier: a spaCy `textcat` (bag of words and bigrams) trained on
data/nlu.yml, fed with normalised text, French stems and the cues of cues.yml.

Training takes seconds with a fixed seed; the same data gives the same model.
"""
from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import spacy
import yaml
from spacy.training import Example as SpacyExample

from directory.stemming import stem_words

from .nludata import NLU_FILE, read_nlu
from .normalize import normalize

__all__ = ["SituationModel", "train", "features", "cues_of", "CUES_FILE", "SEED", "EPOCHS"]

CUES_FILE = Path(__file__).with_name("cues.yml")
SEED = 13
EPOCHS = 12
# Intents of nlu.yml that are dialogue small talk, not situations.
SMALL_TALK = {"saluer", "remercier", "affirmer", "nier", "ne_sait_pas", "aide"}
TEXTCAT = {"@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": True, "ngram_size": 2,
           "no_output_layer": False, "length": 262144}


@lru_cache(maxsize=1)
def _cues() -> dict[str, re.Pattern]:
    raw = yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))["cues"]
    out = {}
    for name, pattern in raw.items():
        try:
            out[name] = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{CUES_FILE.name}: cue « {name} » : expression invalide ({exc})") from None
    return out


def cues_of(norm: str) -> list[str]:
    return [name for name, rx in _cues().items() if rx.search(norm)]


def features(text: str) -> str:
    """What the classifier reads: words, their stems, and cue tokens (twice, to weigh more)."""
    norm = normalize(text)
    cue = " ".join(f"cue{c}" for c in cues_of(norm))
    return f"{norm} {' '.join(stem_words(norm))} {cue} {cue}".strip()


def _blank():
    nlp = spacy.blank("fr")
    nlp.add_pipe("textcat", config={"model": TEXTCAT})
    return nlp


def train(nlu_file: Path = NLU_FILE, *, seed: int = SEED, epochs: int = EPOCHS) -> "SituationModel":
    examples = [e for e in read_nlu(nlu_file) if e.intent not in SMALL_TALK]
    labels = sorted({e.intent for e in examples})
    spacy.util.fix_random_seed(seed)
    nlp = _blank()
    textcat = nlp.get_pipe("textcat")
    for label in labels:
        textcat.add_label(label)
    data = [SpacyExample.from_dict(nlp.make_doc(features(e.text)), {"cats": {l: float(l == e.intent) for l in labels}})
            for e in examples]
    optimizer = nlp.initialize(lambda: data)
    rnd = random.Random(seed)
    for _ in range(epochs):
        rnd.shuffle(data)
        for i in range(0, len(data), 16):
            nlp.update(data[i:i + 16], sgd=optimizer, drop=0.2)
    return SituationModel(nlp, {"examples": len(examples), "labels": labels, "seed": seed, "epochs": epochs})


@dataclass
class SituationModel:
    nlp: object
    meta: dict

    def predict(self, text: str) -> list[tuple[str, float]]:
        """Situations ordered by score (scores sum to 1)."""
        cats = self.nlp(features(text)).cats
        return sorted(cats.items(), key=lambda kv: (-kv[1], kv[0]))

    def save(self, path: Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.nlp.to_disk(path / "textcat")
        (path / "meta.json").write_text(json.dumps(self.meta, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "SituationModel":
        path = Path(path)
        nlp = spacy.load(path / "textcat")
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        return cls(nlp, meta)
