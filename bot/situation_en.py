"""English situation classifier (issue 14): the classifier of bot/situation.py (same spaCy
text categoriser, seed and epochs) trained on data/nlu_en.yml, fed with English features:
normalised words (bot.danger_i18n.normalize_en), their English Snowball stems and the
English cues of bot/cues_en.yml (same names as bot/cues.yml, so that bot.situation.evident
breaks the classifier's hesitations the same way). French lemmas are left out.

    model = train()                         # data/nlu_en.yml, fixed seed, about a minute
    model.predict("my husband hits me")     # [("violences_conjugales", 0.93), ...]
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import re
from functools import lru_cache

import snowballstemmer
import spacy
import yaml
from spacy.training import Example as SpacyExample

from directory import DATA_DIR

from .danger_i18n import normalize_en
from .nludata import read_nlu
from .situation import EPOCHS, SEED, SMALL_TALK, TEXTCAT, nudged

__all__ = ["NLU_EN_FILE", "CUES_EN_FILE", "cues_of", "features", "train", "EnglishSituationModel"]

NLU_EN_FILE = DATA_DIR / "nlu_en.yml"
CUES_EN_FILE = Path(__file__).with_name("cues_en.yml")
_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=1)
def _cues() -> dict[str, re.Pattern]:
    raw = yaml.safe_load(CUES_EN_FILE.read_text(encoding="utf-8"))["cues"]
    return {name: re.compile(rx) for name, rx in raw.items()}


def cues_of(norm: str) -> list[str]:
    return [name for name, rx in _cues().items() if rx.search(norm)]


def features(text: str) -> str:
    """Words, their stems, and cue tokens (twice, so that they weigh more than a word)."""
    norm = normalize_en(text)
    cue = " ".join(f"cue{c}" for c in cues_of(norm))
    return f"{norm} {' '.join('S' + s for s in _STEMMER.stemWords(norm.split()))} {cue} {cue}".strip()


class EnglishSituationModel:
    def __init__(self, nlp, meta: dict):
        self.nlp, self.meta = nlp, meta

    def predict(self, text: str) -> list[tuple[str, float]]:
        """Situations ordered by score (scores sum to 1), as bot.situation.SituationModel."""
        return nudged(dict(self.nlp(features(text)).cats), cues_of(normalize_en(text)))

    def save(self, path: Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.nlp.to_disk(path / "textcat")
        # written last: its presence says the model is complete
        (path / "meta.json").write_text(json.dumps(self.meta, indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> "EnglishSituationModel":
        path = Path(path)
        return cls(spacy.load(path / "textcat"), json.loads((path / "meta.json").read_text(encoding="utf-8")))


def train(nlu_file: Path = NLU_EN_FILE, *, seed: int = SEED, epochs: int = EPOCHS) -> EnglishSituationModel:
    examples = [e for e in read_nlu(nlu_file) if e.intent not in SMALL_TALK]
    labels = sorted({e.intent for e in examples})
    spacy.util.fix_random_seed(seed)
    nlp = spacy.blank("en")
    textcat = nlp.add_pipe("textcat", config={"model": TEXTCAT})
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
    return EnglishSituationModel(nlp, {"examples": len(examples), "labels": labels, "seed": seed, "epochs": epochs})
