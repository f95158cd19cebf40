"""Understanding one message: danger and distress first (deterministic rules), then
the situation (classifier), the place (directory), the role, age group and needs.

Danger has three levels (`bot.danger`): "certain" (the emergency answer at once),
"possible" (the safety question at once) and None. `danger` stays the boolean of the
/api/understand contract: True exactly when the level is "certain".

Fails safe: if anything goes wrong after the danger rules, or in them, the answer
says certain danger, so that the reply starts with the emergency numbers.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from directory import Commune, Directory

from . import danger_i18n
from .danger import CERTAIN, LEVELS, detect
from .lang import is_arabic
from .normalize import normalize
from .places import find_place, load_words
from .places import prepare as prepare_places
from .profile import extract_profile
from .situation import MAX_CHARS, SituationModel, cues_of

__all__ = ["Understanding", "Reader", "Understander", "ModelMissing", "english_model_dir"]

log = logging.getLogger("orientation.understand")
MIN_SCORE = 0.12  # situations scored below this are not reported
TOP = 3


class ModelMissing(Exception):
    code = "model_missing"


def english_model_dir(model_dir: Path) -> Path:
    """Where the English situation classifier is saved: next to the French one's files."""
    return Path(model_dir) / "en"


@dataclass
class Understanding:
    situations: list[tuple[str, float]] = field(default_factory=list)
    danger: bool = False
    distress: bool = False
    commune: Commune | None = None
    commune_candidates: list[Commune] = field(default_factory=list)
    out_of_area: bool = False
    # how the place (commune, candidates or out of area) was introduced: by a place cue
    # or a code ("j'habite à", "près de", "sur", "02300") rather than found bare; and
    # whether as where the person lives ("j'habite", "je vis à")
    commune_cue: bool = False
    commune_residence: bool = False
    role: str | None = None
    role_guessed: bool = False  # the role is only a guess from whom the writer speaks of
    age_group: str | None = None
    needs: list[str] = field(default_factory=list)
    profile: list[str] = field(default_factory=list)
    gender: str | None = None  # the writer's, only when stated
    failed: bool = False  # something broke: danger was set to be safe
    danger_level: str | None = None  # "certain" | "possible" | None

    def __post_init__(self) -> None:
        if self.danger_level not in (*LEVELS, None):
            raise ValueError(f"unknown danger level {self.danger_level!r}")
        if self.danger or self.danger_level == CERTAIN:  # the two always agree
            self.danger, self.danger_level = True, CERTAIN

    @property
    def situation(self) -> str | None:
        return self.situations[0][0] if self.situations else None

    def as_dict(self) -> dict:
        """The contract of POST /api/understand (+ optional out_of_area, profile,
        danger_level and author)."""
        return {
            "situations": [{"code": c, "score": round(s, 3)} for c, s in self.situations],
            "danger": self.danger,
            "danger_level": self.danger_level,
            "distress": self.distress,
            "commune": {"code": self.commune.insee, "name": self.commune.name} if self.commune else None,
            "commune_candidates": [{"code": c.insee, "name": c.name} for c in self.commune_candidates],
            # the contract's roles are victime, proche, professionnel: a writer who says they
            # are violent is role null there, and "author": true (an optional field)
            "role": None if self.role == "auteur" else self.role,
            "author": self.role == "auteur",
            "age_group": self.age_group,
            "needs": list(self.needs),
            "profile": list(self.profile),
            "out_of_area": self.out_of_area,
        }


class Reader:
    """One message read in order: danger and distress first, then the situations (given
    by `classify`, which subclasses provide), the place, role, age group, needs, profile.
    The Rasa action server reads with DIET's intent in place of our classifier
    (`bot.rasa_actions.DietUnderstander`), through this same pipeline."""

    languages: tuple[str, ...] = ()  # `understand(text, lang)` reads these besides French
    model_en = None

    def __init__(self, directory: Directory):
        self.directory = directory

    def classify(self, text: str, norm: str, cues: list[str]) -> list[tuple[str, float]]:
        """Situations with scores, best first."""
        return []

    def understand(self, text: str, lang: str | None = None) -> Understanding:
        """`lang`: the conversation's language ("en", "ar"...; None or "fr" for French).
        The French danger rules always run first; English and Arabic patterns are added
        (never instead) for those languages or any message in Arabic script."""
        text = (text or "")[:MAX_CHARS]
        try:
            flags = detect(text)
            level, danger, distress = flags.danger_level, flags.danger, flags.distress
            other = "ar" if is_arabic(text) else lang
            if other in danger_i18n.LANGUAGES:
                more = danger_i18n.detect(text, other)
                if more.danger:
                    level, danger = CERTAIN, True
                distress = distress or more.distress
        except Exception as exc:  # the type only: an exception's message can quote the text
            log.error("danger rules failed (%s): answering as danger", type(exc).__name__)
            return Understanding(danger=True, danger_level=CERTAIN, failed=True)
        result = Understanding(danger=danger, distress=distress, danger_level=level)
        try:
            if other == "ar":
                self._fill_places_and_profile(text, result)  # Arabic: the guided flow, by buttons
            elif other == "en" and self.model_en is not None:
                self._fill_en(text, result)
            else:
                self._fill(text, result)
        except Exception as exc:
            log.error("understanding failed (%s): answering as danger", type(exc).__name__)
            return Understanding(danger=True, danger_level=CERTAIN, distress=distress, failed=True)
        return result

    def _fill(self, text: str, result: Understanding) -> None:
        norm = normalize(text)
        if norm:
            cues = cues_of(norm)
            # A few words without any cue ("bonjour", "oui") say nothing of the situation.
            if len(norm.split()) >= 3 or cues:
                scored = self.classify(text, norm, cues)
                result.situations = [(c, float(s)) for c, s in scored[:TOP] if s >= MIN_SCORE]
        self._fill_places_and_profile(text, result)

    def _fill_en(self, text: str, result: Understanding) -> None:
        from .danger_i18n import normalize_en
        from .situation_en import cues_of as cues_en

        norm = normalize_en(text)
        if norm and (len(norm.split()) >= 3 or cues_en(norm)):
            result.situations = [(c, float(s)) for c, s in self.model_en.predict(text)[:TOP] if s >= MIN_SCORE]
        self._fill_places_and_profile(text, result)

    def _fill_places_and_profile(self, text: str, result: Understanding) -> None:
        place = find_place(text, self.directory.snapshot.communes)
        result.commune = place.commune
        result.commune_candidates = list(place.candidates) if place.commune is None else []
        result.out_of_area = place.out_of_area
        result.commune_cue = place.cue is not None
        result.commune_residence = place.cue == "residence"
        profile = extract_profile(text)
        result.role, result.age_group = profile.role, profile.age_group
        result.role_guessed = profile.role_guessed
        result.needs, result.profile = list(profile.needs), list(profile.profile)
        result.gender = profile.gender


class Understander(Reader):
    """The reader with our situation classifiers (French; English when trained)."""

    languages = ("en", "ar")

    def __init__(self, directory: Directory, model_dir: Path):
        model_dir = Path(model_dir)
        if not (model_dir / "meta.json").exists():
            raise ModelMissing(f"le classifieur n'est pas entraîné ({model_dir}) : lancez « orientation nlu train »")
        if not SituationModel.complete(model_dir):
            raise ModelMissing(f"le classifieur ({model_dir}) date d'une version précédente : "
                               "relancez « orientation nlu train »")
        super().__init__(directory)
        self.model = SituationModel.load(model_dir)
        load_words(model_dir)
        prepare_places(directory.snapshot.communes)  # the word list now, not on the first message
        self.model.predict("chauffe")  # warm up now, not on the first message
        # English situations (issue 14): optional, trained by the same command
        en_dir = english_model_dir(model_dir)
        if (en_dir / "meta.json").exists():
            from .situation_en import EnglishSituationModel

            self.model_en = EnglishSituationModel.load(en_dir)
            self.model_en.predict("warm up")

    def classify(self, text: str, norm: str, cues: list[str]) -> list[tuple[str, float]]:
        return self.model.predict(text, cues=cues)
