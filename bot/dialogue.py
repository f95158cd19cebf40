"""The rules-driven dialogue, answering in the Rasa REST channel's message shape.

Each turn: commands first (/effacer, /restart, aide), then the deterministic danger
and distress check (through the understanding layer, which runs it before anything
else), then the facts the message gives, then either the next question the rules
need (never more than one per message) or the plan. Any error answers with the
emergency contacts. No message text is logged or stored.

Facts are kept with their provenance (`Session.sources`: button, answer, text,
inference). A later message changes a fact only when it says so:

* an answer to the question just asked sets that fact (yes/no with extra words and
  typos, "je ne sais pas" skips it kindly); answers, skips and yes/no never reach the
  situation classifier;
* a situation is replaced only by an explicit correction ("en fait", "non c'est…",
  "pas X mais Y") or by a more specific one (`refines` in dialogue.yml); "autre"
  never replaces a specific situation;
* a commune is replaced by an answer to the commune question or by a place the
  message introduces; an Aisne commune clears "out of area";
* the person concerned ("ma sœur") is kept apart from the person writing: questions
  and texts address the right one; "en fait c'est moi" makes the writer the victim
  without dropping the situation.

The language is a fact too (`facts["lang"]`, issue 14): set by a language button or
the page (`/langue{"lang": "en"}`), or by a free-text message long enough to tell
(bot/lang.py); a French message keeps "Français facile". Every text sent goes through
the catalog of that language (bot/i18n.py); French is the source, unchanged. A message
in a language we do not answer in gets a short notice, the emergency numbers and the
language buttons.

Danger has three values: certain (the emergency answer at once), possible (the
safety question at once, with the emergency numbers under it, never "vous êtes en
danger" unless the person says so), none.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import yaml

from directory import Directory
from rules import Orienter, Request
from rules.plan import contact_line, plan_text

from .danger_i18n import normalize_en
from .i18n import LANGUAGES, other_language_notice, plan_words, translator
from .lang import SUPPORTED, _AR_MAP, _AR_MARKS, detect_language, normalize_ar
from .normalize import normalize
from .sessions import Session, SessionStore
from .situation import cues_of, evident

__all__ = ["Dialogue", "DialogueSpec", "TurnResult", "MAX_MESSAGE", "PAYLOAD", "FACTS", "load_spec",
           "contacts_text"]

log = logging.getLogger("orientation.dialogue")
SPEC_FILE = Path(__file__).with_name("dialogue.yml")
MAX_MESSAGE = 2000
MAX_STEPS = 6  # "Ce que vous pouvez faire": short
CONFIDENT = 0.45  # a situation scored above this is taken without asking
EVIDENT = 0.2  # a situation the cue words clearly point to is taken from this score
ONE_WORD_SURE = 0.6  # a one- or two-word answer decides the situation alone from this score (or with its cue words)
EVIDENCE_DECAY = 0.7  # weight of earlier messages' situation scores while none is decided
SHORT_ANSWER = 14  # words: a skip phrase in a longer message is part of a story, not a skip
# a situation that a later message may refine into only when the story names such a person
_NEEDS_CUE = {"violences_conjugales": {"partner"}, "violences_intrafamiliales": {"family"}}
_OWN_MINOR_AGE = re.compile(r"\b(?:j ai|jai) (?:1[0-7]|[1-9]) ans\b")  # the writer is the minor
_STATED_AGE = re.compile(r"\b\d{1,3} ans\b")
_AFTER_BUT = re.compile(r"\bmais\b", re.I)
PAYLOAD = re.compile(r"^/(\w+)(\{.*\})?$", re.S)
FACTS = ("danger", "situation", "commune", "role", "age_group")
LANGUAGE_COMMANDS = ("/langue", "langue", "language", "/language", "لغة", "اللغة")
READING = ("skip", "refuse", "yes", "no", "safe", "unsafe", "correction", "not_me", "its_me")


@dataclass(frozen=True)
class DialogueSpec:
    order: tuple[str, ...]
    facts: dict
    needs: dict
    not_asked: dict  # role -> facts never asked of that role
    refines: dict
    reading: dict  # name -> compiled pattern
    relatives: dict
    texts: dict
    next_steps: dict
    help: frozenset
    after_plan: tuple[str, ...] = ()  # facts asked after the plan when no answer changes the contacts
    own_steps_only: frozenset = frozenset()  # roles given only their own advice


def _compile(name: str, pattern: str, path: Path) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{path.name} : reading.{name} n'est pas une expression régulière valide ({exc}). "
                         "Vérifiez les parenthèses et les barres obliques inverses.") from None


def load_spec(path: Path = SPEC_FILE, situations=None) -> DialogueSpec:
    path = Path(path)
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    problems = [f"fait inconnu « {f} » dans order (faits possibles : {', '.join(FACTS)})"
                for f in raw["order"] if f not in FACTS]
    problems += [f"fait inconnu « {f} » dans after_plan" for f in raw.get("after_plan", []) if f not in FACTS]
    for code, needed in {**raw["needs"], **raw.get("not_asked", {})}.items():
        problems += [f"fait inconnu « {f} » pour {code}" for f in needed if f not in FACTS]
    if situations is not None:
        problems += [f"situation sans besoins déclarés : {c} (ajoutez-la sous needs)" for c in situations
                     if c not in raw["needs"]]
        for code, finer in raw.get("refines", {}).items():
            problems += [f"refines : situation inconnue « {c} »" for c in [code, *finer] if c not in situations]
    problems += [f"reading.{name} manque" for name in READING if name not in raw.get("reading", {})]
    if problems:
        raise ValueError(f"{path.name} : " + " ; ".join(problems))
    return DialogueSpec(
        order=tuple(raw["order"]), facts=raw["facts"], needs=raw["needs"],
        not_asked=raw.get("not_asked", {}), refines={k: frozenset(v) for k, v in raw.get("refines", {}).items()},
        reading={name: _compile(name, raw["reading"][name], path) for name in READING},
        relatives={k: tuple(v) for k, v in raw.get("relatives", {}).items()},
        texts=raw["texts"], next_steps=raw["next_steps"], help=frozenset(raw["help_phrases"]),
        after_plan=tuple(raw.get("after_plan", ())), own_steps_only=frozenset(raw.get("own_steps_only", ())),
    )


def contacts_text(intro: str, contacts: list[dict]) -> str:
    return "\n".join([intro, *(contact_line(c) for c in contacts)])


@dataclass
class Reading:
    """How one free-text message relates to the conversation (never stored)."""

    norm: str
    kind: str = "text"  # text | skip | yes | no
    safe: bool | None = None  # the message states the person is safe (True) or not (False)
    correction: bool = False
    not_me: bool = False
    its_me: bool = False
    answers: str | None = None  # the pending fact this message answers
    not_a_place: bool = False  # the answer to "which commune?" was a sentence, not a name


@dataclass
class TurnResult:
    """What one message did: the alerts to show first (emergency, distress, the safety
    question), other replies, and whether the facts changed. The web channel adds the
    next step (`Dialogue.next_messages`); the Rasa form lets Rasa ask it."""

    alerts: list[dict] = field(default_factory=list)
    replies: list[dict] = field(default_factory=list)
    before: dict = field(default_factory=dict)
    force_ask: bool = False
    asked_now: bool = False  # an alert already asks the next question (the safety question)
    plain: bool = False  # ask again with the plain question, not "I did not understand"

    @property
    def messages(self) -> list[dict]:
        if self.asked_now:  # the question that is asked now comes last ("D'accord…", then the question)
            asking = [m for m in self.alerts if (m.get("custom") or {}).get("asks") or
                      (m.get("custom") or {}).get("kind") == "if_danger"]
            return [m for m in self.alerts if m not in asking] + self.replies + asking
        return self.alerts + self.replies


class Dialogue:
    def __init__(self, directory: Directory, orienter: Orienter, understander, store: SessionStore | None = None,
                 spec: DialogueSpec | None = None):
        self.directory = directory
        self.orienter = orienter
        self.understander = understander
        self.store = store if store is not None else SessionStore()
        self.spec = spec if spec is not None else load_spec(situations=directory.vocabulary.situations)
        self.vocabulary = directory.vocabulary

    # -- entry point ------------------------------------------------------------------
    def handle(self, sender: str, message: object, lang: str | None = None) -> list[dict]:
        """Bot messages for one user message (without recipient_id: the channel adds it).
        `lang`: the page's language, taken when the conversation has none yet."""
        if lang in LANGUAGES and lang != "fr" and isinstance(message, str) and message.strip() \
                and message.strip().lower() not in ("/effacer", "effacer", "/erase"):
            self.set_language(sender, lang)
        lang = self.store.get(sender).facts.get("lang") if sender in self.store else lang
        t = self._texts(lang)
        if not isinstance(message, str):
            return [{"text": t("not_text")}]
        text = message.strip()
        if len(text) > MAX_MESSAGE:
            return [{"text": t("too_long")}]
        command = text.lower()
        if command in ("/effacer", "effacer", "/erase"):
            self.store.forget(sender)
            return [{"text": t("erased")}]
        if command in ("/restart", "/recommencer", "recommencer"):
            self.store.forget(sender)
            session = self.store.get(sender)
            if lang:  # starting again keeps the language chosen
                self._set(session, "lang", lang, "button")
            return [{"text": t("restarted")}, self.ask(session, "situation")]
        if not text:
            return [{"text": t("empty")}]
        session = self.store.get(sender)
        if command in LANGUAGE_COMMANDS:
            return [self.language_message(session)]
        try:
            return self.turn(session, text)
        except Exception as exc:  # fail safe, and never log the message
            log.error("dialogue turn failed (%s): answering with the emergency contacts", type(exc).__name__)
            return [self.emergency_message(session, self._tr(session, self.spec.texts["error"]))]

    def emergency(self, sender: str) -> list[dict]:
        """The fail-safe answer (emergency contacts), e.g. when another back end fails."""
        session = self.store.get(sender)
        return [self.emergency_message(session, self._tr(session, self.spec.texts["error"]))]

    # -- language ---------------------------------------------------------------------------
    def language(self, sender: str) -> str:
        """The language of a conversation ("fr" until something else is chosen or written)."""
        return self.store.get(sender).facts.get("lang") or "fr"

    def set_language(self, sender: str, lang: object) -> None:
        """The page's language (REST `lang`): taken when the conversation has none yet."""
        if isinstance(lang, str) and lang in LANGUAGES:
            session = self.store.get(sender)
            if "lang" not in session.facts:
                self._set(session, "lang", lang, "button")

    def _tr(self, session: Session, text: str) -> str:
        """A text of dialogue.yml in the conversation's language (French: unchanged)."""
        return translator(session.facts.get("lang")).gettext(text)

    def _texts(self, lang: str | None):
        spec_texts, tr = self.spec.texts, translator(lang)
        return lambda key: tr.gettext(spec_texts[key])

    def _detect_language(self, session: Session, text: str) -> str | None:
        """Update the language fact from a free-text message; answer an unsupported
        language's code (the caller sends the notice), else None."""
        found = detect_language(text)
        if found is None:
            return None
        current = session.facts.get("lang") or "fr"
        if found == "fr":
            if current not in ("fr", "fr_FALC"):  # back to French; "Français facile" stays
                self._set(session, "lang", "fr", "text")
        elif found in SUPPORTED:
            if found != current:
                self._set(session, "lang", found, "text")
        else:
            return found
        return None

    def language_buttons(self) -> list[dict]:
        return [{"title": name, "payload": f'/langue{{"lang": "{code}"}}'} for code, (name, _) in LANGUAGES.items()]

    def language_message(self, session: Session) -> dict:
        return {"text": self._tr(session, LANGUAGE_QUESTION), "buttons": self.language_buttons(),
                "custom": {"kind": "language"}}

    def other_language_message(self, session: Session, lang: str) -> dict:
        """A language we do not answer in: a short notice (in it when we have one, then in
        English and French), the emergency numbers of the directory, the language buttons."""
        contacts = self.flag_contacts("danger", session.facts.get("profile", ()), session.facts.get("role"))
        return {"text": contacts_text("\n".join(other_language_notice(lang)), contacts),
                "buttons": self.language_buttons(),
                "custom": {"contacts": contacts, "kind": "other_language", "detected": lang}}

    def turn(self, session: Session, text: str) -> list[dict]:
        """One whole turn: what the message changes, then the next question or the plan."""
        result = self.absorb(session, text)
        if result.asked_now:
            return result.messages
        return result.messages + self.next_messages(session, result.before, result.force_ask, result.plain)

    # -- reading one message ----------------------------------------------------------------
    def absorb(self, session: Session, text: str, understanding=None) -> TurnResult:
        """Update the session's facts from one message; return the alerts and replies.
        `understanding` lets another front end (the Rasa actions) pass its own reading."""
        result = TurnResult(before=dict(session.facts))
        match = PAYLOAD.match(text)
        if match:
            self._absorb_payload(session, match, result)
            return result
        # languages only with an understander that reads them (not the Rasa profile's)
        languages = getattr(self.understander, "languages", ())
        other = self._detect_language(session, text) if languages else None
        norm = normalize(text)
        if norm in self.spec.help:
            result.replies.append({"text": self._tr(session, self.spec.texts["help"])})
            result.force_ask = True
            return result
        lang = session.facts.get("lang")
        if understanding is not None:
            u = understanding
        elif lang in languages:
            u = self.understander.understand(text, lang=lang)
        else:
            u = self.understander.understand(text)
        if other and not (u.danger or u.distress):
            result.alerts.append(self.other_language_message(session, other))
            result.asked_now = True
            return result
        reading = self.read(session, norm, u, text)
        tail = _AFTER_BUT.split(text, maxsplit=1) if reading.correction and understanding is None else []
        if len(tail) == 2 and normalize(tail[1]):
            # "pas mon frère mais mon ex-mari", "pas Laon mais Chauny": the correction is what follows "mais"
            corrected = self.understander.understand(tail[1])
            if (session.facts.get("situation") and len(normalize(tail[1]).split()) >= 2 and corrected.situations
                    and corrected.situations[0][0] != "autre"):
                u.situations = corrected.situations
            if corrected.commune or corrected.commune_candidates or corrected.out_of_area:
                u.commune, u.commune_candidates = corrected.commune, corrected.commune_candidates
                u.out_of_area = corrected.out_of_area
        was_danger = session.facts.get("danger")
        if reading.safe is not None:  # said in words: it wins over a "non" that starts the answer
            self._set(session, "danger", not reading.safe, "answer" if session.pending == "danger" else "text")
        elif reading.kind == "skip" and session.pending == "situation" and not self.spec.reading["refuse"].search(norm):
            result.replies.append({"text": self._tr(session, self.spec.texts["take_time"])})  # hesitating is not skipping
        elif reading.kind == "skip" and session.pending is None and self.spec.reading["refuse"].search(norm):
            session.skipped.add("situation")  # "je préfère pas dire ce qui se passe", first thing said
            result.replies.append({"text": self._tr(session, self.spec.texts["skipped"])})
        elif reading.kind == "skip":
            self.skip(session, result)
        elif reading.kind in ("yes", "no") and reading.answers:
            if not self._answer_yes_no(session, reading) and session.pending not in session.skipped:
                result.force_ask = True  # "oui" to "which commune?": ask again, without "not found"
        self._apply(session, u, text, reading)
        result.plain = reading.not_a_place
        level = getattr(u, "danger_level", "certain" if u.danger else None)
        if u.distress:
            session.facts["distress"] = True
            result.alerts.append(self.distress_message(session))
        if level == "certain" or u.danger:
            self._set(session, "danger", True, "answer" if session.pending == "danger" else "text")
            result.alerts.insert(0, self.emergency_message(session))
        elif session.facts.get("danger") is True and was_danger is not True:
            result.alerts.insert(0, self.emergency_message(session))  # "non" to "êtes-vous en sécurité ?"
        elif (level == "possible" and session.facts.get("danger") is None and "danger" not in session.skipped
              and "danger" not in self.spec.not_asked.get(session.facts.get("role"), ())):
            # possible danger: the safety question now, with the numbers under it
            result.alerts += [self.ask(session, "danger"), self.if_danger_message(session)]
            result.asked_now = True
        return result

    def read(self, session: Session, norm: str, u, text: str = "") -> Reading:
        r = self.spec.reading
        reading = Reading(norm=norm, correction=bool(r["correction"].search(norm)),
                          not_me=bool(r["not_me"].search(norm)), its_me=bool(r["its_me"].search(norm)))
        words = len(norm.split())
        # English and Arabic short answers (bot/reading_i18n.yml), besides the French ones
        other = _reading_i18n().get(session.facts.get("lang"))
        local = ""
        if other is not None and text:
            local = normalize_en(text) if session.facts.get("lang") == "en" else normalize_ar(text)
            words = max(words, len(local.split()))

        def says(name: str) -> bool:
            return bool(r[name].search(norm) or (local and other[name].search(local)))

        storyless = not cues_of(norm) and not u.danger and not u.distress
        if words <= SHORT_ANSWER and storyless and says("skip") and not says("yes"):
            reading.kind = "skip"
        elif words <= SHORT_ANSWER and says("no"):
            reading.kind = "no"
        elif words <= SHORT_ANSWER and says("yes"):
            reading.kind = "yes"
        if says("unsafe"):
            reading.safe = False
        elif says("safe"):
            reading.safe = True
        if session.pending and (reading.kind != "text" or words <= 3):
            reading.answers = session.pending
        return reading

    def _set(self, session: Session, fact: str, value, source: str) -> None:
        session.facts[fact] = value
        session.sources[fact] = source
        session.skipped.discard(fact)

    def _special(self, session: Session, fact: str) -> dict | None:
        """The question asked in place of the usual one for this role, or else this situation."""
        spec = self.spec.facts[fact]
        return (spec.get("by_role", {}).get(session.facts.get("role"))
                or spec.get("by_situation", {}).get(session.facts.get("situation")))

    def _yes_no_spec(self, session: Session, fact: str) -> dict:
        return self._special(session, fact) or self.spec.facts[fact]

    def _answer_yes_no(self, session: Session, reading: Reading) -> bool:
        fact = reading.answers
        spec = self._yes_no_spec(session, fact)
        if "if_yes" not in spec:
            return False
        value = spec["if_yes"] if reading.kind == "yes" else spec["if_no"]
        if fact == "age_group" and value == "adulte" and session.facts.get("age_group") == "senior":
            return True  # "non" to "mineure ?" keeps a stated old age
        self._set(session, fact, value, "answer")
        return True

    def skip(self, session: Session, result: TurnResult | None = None) -> None:
        """The person would rather not answer the question asked: skip it kindly."""
        if session.pending:
            session.skipped.add(session.pending)
            if session.pending == "commune":
                session.facts.pop("commune", None)
                session.choices = []
            if result is not None:
                result.replies.append({"text": self._tr(session, self.spec.texts["skipped"])})

    def _absorb_payload(self, session: Session, match: re.Match, result: TurnResult) -> None:
        intent, entities = match.group(1), match.group(2)
        if intent == "aide":
            result.replies.append({"text": self._tr(session, self.spec.texts["help"])})
            result.force_ask = True
            return
        if intent == "langue":
            self._apply_payload(session, entities or "{}")
            result.force_ask = True  # the question (or the plan) again, in the new language
            return
        if intent == "passer":
            self.skip(session)
        elif intent == "informer" and entities:
            self._apply_payload(session, entities)
        if session.facts.get("danger") is True and result.before.get("danger") is not True:
            # "Non, je suis en danger": the emergency numbers at once, then the rest
            result.alerts.append(self.emergency_message(session))

    def _apply_payload(self, session: Session, raw: str) -> None:
        try:
            entities = json.loads(raw)
        except ValueError:
            return
        if not isinstance(entities, dict):
            return
        v = self.vocabulary
        allowed = {"situation": v.situations, "role": v.roles, "age_group": v.age_groups}
        for key, value in entities.items():
            if key == "lang" and isinstance(value, str) and value in LANGUAGES:
                self._set(session, "lang", value, "button")
            elif key == "danger" and isinstance(value, bool):
                self._set(session, "danger", value, "button")
            elif key in allowed and value in allowed[key]:
                self._set(session, key, value, "button")
                if key == "role" and value == "victime":
                    session.facts.pop("concerned", None)
            elif key == "commune" and isinstance(value, str) and self.directory.commune(value):
                self._set(session, "commune", value, "button")
                session.facts.pop("out_of_area", None)
                session.choices = []

    # -- facts from free text -------------------------------------------------------------
    def _apply(self, session: Session, u, text: str, reading: Reading) -> None:
        if reading.kind == "text" and (reading.answers in (None, "situation") or cues_of(reading.norm)):
            self._update_situation(session, u, reading)
        self._update_place(session, u, text, reading)
        self._update_person(session, u, reading)
        facts = session.facts
        if u.needs:
            facts["needs"] = sorted(set(facts.get("needs", ())) | set(u.needs))
        if u.profile:
            facts["profile"] = sorted(set(facts.get("profile", ())) | set(u.profile))
        gender = getattr(u, "gender", None)
        if gender and (facts.get("role") in (None, "victime")):
            self._set(session, "gender", gender, "text")

    def _update_situation(self, session: Session, u, reading: Reading) -> None:
        if not u.situations:
            return
        code, score = u.situations[0]
        facts = session.facts
        current = facts.get("situation")
        asked = session.pending == "situation"
        if current is None:
            # a story told a few words at a time ("mon mec" … "il me tape"): the scores of
            # earlier messages count, decayed, until a situation is decided
            scores = {c: EVIDENCE_DECAY * s for c, s in session.evidence.items()}
            for c, s in u.situations:
                scores[c] = scores.get(c, 0.0) + s
            code, score = max(scores.items(), key=lambda kv: kv[1])
            # the cue words of the whole story so far ("mari" … "frappe"), never the words themselves
            seen = set(session.facts.get("cues", ())) | set(cues_of(reading.norm))
            clear = evident(sorted(seen))
            if code == "autre" and clear:
                # "autre" is what is left when nothing else fits: cue words that clearly name a
                # situation ("les victimes de violences conjugales") say what it is
                code, score = clear, max(score, CONFIDENT)
            if (clear == "enfant_en_danger" and "partner" in seen and "family" not in seen
                    and _OWN_MINOR_AGE.search(reading.norm)):
                # a teenager hurt by her own boyfriend: couple violence (119 comes with her age)
                clear = "violences_conjugales"
            if clear and clear != code and scores.get(clear, 0.0) >= EVIDENT:
                # the classifier hesitates between close scores; the words say who hurts whom
                code, score = clear, max(scores[clear], CONFIDENT)
            elif clear == code and score >= EVIDENT:
                score = max(score, CONFIDENT)
            session.evidence = {c: round(min(s, 1.0), 3) for c, s in scores.items()}
            session.facts["cues"] = sorted(seen)  # kept: a later refinement is read against the story
            if code == "autre" and not asked and score < CONFIDENT:
                return
            if (asked and len(reading.norm.split()) <= 2 and session.repeats == 0 and clear != code
                    and score < ONE_WORD_SURE):
                return  # "violences", "mari": one word says little; ask once more, keep the evidence
            if score >= CONFIDENT or asked:
                self._set(session, "situation", code, "answer" if asked else "text")
                session.evidence = {}
            return
        if code == current or code == "autre":
            return  # "autre" never replaces a specific situation
        if session.sources.get("situation") == "button" and not reading.correction:
            return
        story = len(reading.norm.split()) >= 4 and not reading.answers
        seen = set(session.facts.get("cues", ())) | set(cues_of(reading.norm))
        session.facts["cues"] = sorted(seen)
        if not reading.correction and code in _NEEDS_CUE and not seen & _NEEDS_CUE[code]:
            # "un problème avec mon voisin" … "il m'a frappée": no partner, no family in the
            # whole story: not couple or family violence, an assault
            code = "agression" if "violence" in seen else current
        if (reading.correction and score >= CONFIDENT / 2) or (
                story and code in self.spec.refines.get(current, ()) and score >= CONFIDENT):
            self._set(session, "situation", code, "text")

    def _update_place(self, session: Session, u, text: str, reading: Reading) -> None:
        facts = session.facts
        asked = session.pending == "commune"
        cue = getattr(u, "commune_cue", True)
        if reading.kind == "skip":
            return
        if u.commune:
            if asked or "commune" not in facts or facts.get("commune") is None or cue or reading.correction:
                self._set(session, "commune", u.commune.insee, "answer" if asked else "text")
                facts.pop("out_of_area", None)
                session.choices = []
        elif u.commune_candidates and (asked or not facts.get("commune")):
            # "02000 Laon": the postal code lists several communes, the name says which
            named = [c for c in u.commune_candidates
                     if re.search(rf"\b{re.escape(normalize(c.name))}\b", reading.norm)]
            if len(named) == 1:
                self._set(session, "commune", named[0].insee, "answer" if asked else "text")
                facts.pop("out_of_area", None)
                session.choices = []
            else:
                session.choices = [c.insee for c in u.commune_candidates[:6]]
        elif u.out_of_area and not facts.get("commune"):
            facts["commune"] = None
            facts["out_of_area"] = True
            session.sources["commune"] = "answer" if asked else "text"
            session.skipped.discard("commune")
        elif asked and reading.kind == "text":
            self._resolve_answer(session, text)
            if not facts.get("commune") and not session.choices and len(reading.norm.split()) > 3:
                reading.not_a_place = True  # a sentence, not a misspelt name: ask plainly again
        elif (not facts.get("commune") and reading.kind == "text" and len(reading.norm.split()) <= 4
              and not cues_of(reading.norm) and not u.situations):
            # a bare commune name given while another question was pending, or later, after
            # the commune question was skipped: local help, as offered
            res = self.directory.resolve_commune(text)
            if res.status == "found":
                self._set(session, "commune", res.commune.insee, "text")
                facts.pop("out_of_area", None)
            elif res.status == "out_of_area" and text.strip()[:1].isupper() and "commune" not in facts:
                facts["commune"] = None  # "Lille", written as a name: a town elsewhere
                facts["out_of_area"] = True
                session.sources["commune"] = "text"

    def _resolve_answer(self, session: Session, text: str) -> None:
        """A bare answer to "which commune?": resolve it directly (typos, postal codes)."""
        res = self.directory.resolve_commune(text)
        if res.status == "found":
            self._set(session, "commune", res.commune.insee, "answer")
            session.facts.pop("out_of_area", None)
            session.choices = []
        elif res.status == "ambiguous":
            session.choices = [m.commune.insee for m in res.candidates[:6]]
        elif res.status == "out_of_area":
            session.facts["commune"] = None
            session.facts["out_of_area"] = True
            session.sources["commune"] = "answer"

    def _relative(self, norm: str) -> str | None:
        """The relative the writer names ("ma sœur", "mon voisin"), as a key of `relatives`."""
        m = _relative_pattern(self.spec.relatives).search(norm)
        return (m.group(1) or m.group(2)) if m else None

    def _update_person(self, session: Session, u, reading: Reading) -> None:
        facts = session.facts
        current = facts.get("role")
        source = session.sources.get("role")
        role = u.role
        if reading.its_me:
            role = "victime"
        elif reading.not_me and role in (None, "victime"):
            role = "proche"
        if role and role != current:
            explicit = reading.its_me or reading.not_me or reading.correction
            if current is None or source == "inference" or session.pending == "role" or explicit:
                # a "je" in a message that tells nothing of what happens ("je sais pas par où
                # commencer") does not make the writer the victim: a guess, that the story replaces
                # and a role guessed from whom the writer speaks of ("c'est mon copain") is a guess too
                told = explicit or (bool(cues_of(reading.norm)) and not u.role_guessed)
                source = "answer" if session.pending == "role" else ("text" if told else "inference")
                self._set(session, "role", role, source)
        relative = self._relative(reading.norm)
        age = u.age_group
        if facts.get("role") == "victime" and reading.its_me:
            if facts.pop("concerned", None) or current == "proche":
                # what was said of the relative (their age, their safety) is asked again of the writer
                for fact in ("age_group", "danger"):
                    if session.sources.get(fact) != "button":
                        facts.pop(fact, None)
                        session.skipped.discard(fact)
        elif relative and facts.get("role") in ("proche", "professionnel", None) and (
                "concerned" not in facts or reading.not_me or reading.correction):
            facts["concerned"] = relative
        stated = bool(_STATED_AGE.search(reading.norm))  # "j'ai 20 ans": a fact, it corrects an answer
        if age and (facts.get("age_group") is None or session.pending == "age_group" or reading.correction
                    or stated or session.sources.get("age_group") == "inference"):
            self._set(session, "age_group", age, "answer" if session.pending == "age_group" else "text")

    # -- what comes next ------------------------------------------------------------------
    def missing(self, session: Session) -> str | None:
        """The next fact to ask, or None when the plan can be given."""
        if session.facts.get("situation") is None and "situation" not in session.skipped:
            return "situation"
        for fact in self._unknown(session):
            if fact in self.spec.after_plan and not self.decides(session, fact):
                continue  # asked after the plan (see after_plan_fact)
            return fact
        return None

    def _unknown(self, session: Session) -> list[str]:
        """The facts the situation needs that are not known, skipped, or never asked of the role, in order."""
        facts = session.facts
        situation = facts.get("situation")
        needed = self.spec.needs.get(situation, ["commune"]) if situation else ["commune"]
        never = self.spec.not_asked.get(facts.get("role"), ())
        return [f for f in self.spec.order
                if f in needed and f not in never and f not in facts and f not in session.skipped]

    def decides(self, session: Session, fact: str) -> bool:
        """Whether an answer to `fact` can change who to contact: the rules are evaluated
        with the value of each of the question's buttons (contacts only: no plan, no cards)."""
        values = set()
        for b in self.spec.facts[fact].get("buttons") or ():
            m = PAYLOAD.match(b["payload"])
            values |= {json.loads(m.group(2)).get(fact)} if m and m.group(2) else set()
        plans = {tuple(r.service_id for r in self.orienter.evaluate(self.request(session, **{fact: v})).recommendations)
                 for v in values - {None}}
        return len(plans) > 1

    def after_plan_fact(self, session: Session) -> str | None:
        """A fact left for after the plan (see `missing`), not asked yet."""
        return next((f for f in self._unknown(session) if f in self.spec.after_plan), None)

    def next_messages(self, session: Session, before: dict, force_ask: bool = False, plain: bool = False) -> list[dict]:
        """The next question, or the plan when nothing is missing."""
        if session.choices and not session.facts.get("commune"):
            return [self.ask_choice(session)]
        missing = self.missing(session)
        if missing:
            unanswered = session.pending == missing and not force_ask
            if unanswered and missing == "danger" and session.facts != before:
                # the reply told something else: do not insist; the plan shows the numbers
                # "en cas de danger", and danger said at any turn still answers at once
                session.skipped.add("danger")
                return self.next_messages(session, before, force_ask=True)
            session.repeats = session.repeats + 1 if unanswered else 0
            if session.repeats >= (3 if missing == "situation" else 2):
                # asked twice already (the situation three times): do not insist, go on without it
                # (the plan for an unknown situation; it can still be told later)
                session.skipped.add(missing)
                session.repeats = 0
                return self.next_messages(session, before, force_ask=True)
            repeat = unanswered and session.facts == before and not plain
            question = self.ask(session, missing, repeat=repeat)
            if missing == "danger":  # the numbers under the safety question, without saying "danger"
                return [question, self.if_danger_message(session)]
            return [question]
        if session.recommended and session.facts == before and not force_ask:
            return [{"text": self._tr(session, self.spec.texts["after"])}]
        later = self.after_plan_fact(session)
        messages = self.recommend(session, closing=later is None)
        if later:  # asked once, after the plan: the answer adapts the advice, it is never insisted on
            session.skipped.add(later)
            messages.append(self.ask(session, later, after_plan=True))
        return messages

    def _who(self, session: Session, capital: bool = True) -> tuple[str, str] | None:
        """How to name the person concerned when it is not the writer: ("Votre sœur", "elle")."""
        facts = session.facts
        if facts.get("role") not in ("proche", "professionnel") or session.sources.get("role") == "inference":
            return None  # a role only guessed ("c'est mon copain"): ask the writer, the likelier case
        relative = self.spec.relatives.get(facts.get("concerned"))
        name, pron = ((relative[2] if len(relative) > 2 else f"Votre {relative[0]}"), relative[1]) if relative \
            else ("La personne", "elle")
        tr = translator(facts.get("lang"))
        name, pron = tr.pgettext("who", name), tr.pgettext("pronoun", pron)
        return (name if capital else name[0].lower() + name[1:], pron)

    def ask(self, session: Session, fact: str, repeat: bool = False, after_plan: bool = False) -> dict:
        """The question for one fact, addressed to the right person."""
        session.pending = fact
        spec = self.spec.facts[fact]
        tr = translator(session.facts.get("lang"))
        text = tr.gettext(spec.get("repeat") if repeat and spec.get("repeat") else
                          spec.get("question_after_plan") if after_plan and spec.get("question_after_plan")
                          else spec["question"])
        buttons = spec.get("buttons") or []
        who = self._who(session)
        if fact == "danger":
            special = self._special(session, fact)
            if special:
                text, buttons = tr.gettext(special["question"]), special["buttons"]
            elif who:  # the template is translated, then filled
                text = tr.gettext(spec["question_other"]).format(who=who[0], pron=who[1])
                buttons = spec["buttons_other"]
        elif fact == "age_group":
            if who:
                text = tr.gettext(spec["question_other"]).format(who=who[0], pron=who[1])
            elif session.facts.get("role") == "victime":
                text = tr.gettext(spec["question_self"])
        msg: dict = {"text": text, "custom": {"asks": fact}}
        if buttons:
            msg["buttons"] = [{**b, "title": tr.gettext(b["title"])} for b in buttons]
        return msg

    def if_danger_message(self, session: Session) -> dict:
        """17, 112, SMS 114 under the safety question, without saying the person is in danger:
        the emergency contacts of the profile, with the rules' "en cas de danger" reasons."""
        profile = frozenset(session.facts.get("profile", ()))
        calm = self.orienter.orient(Request(profile=profile))
        reasons = {c["id"]: c for c in calm.contacts + calm.if_danger}
        contacts = [reasons.get(c["id"], c) for c in self.flag_contacts("danger", profile, session.facts.get("role"))]
        return {"text": self._localized(session, contacts_text(self._tr(session, self.spec.texts["if_danger"]), contacts)),
                "custom": {"contacts": contacts, "kind": "if_danger"}}

    def ask_choice(self, session: Session) -> dict:
        session.pending = "commune"
        buttons = []
        for insee in session.choices:
            c = self.directory.commune(insee)
            buttons.append({"title": f"{c.name} ({', '.join(c.postal_codes)})",
                            "payload": json.dumps({"commune": insee}, ensure_ascii=False).join(("/informer", ""))})
        buttons.append({"title": self._tr(session, NONE_OF_THESE), "payload": "/passer"})
        return {"text": self._tr(session, self.spec.facts["commune"]["ambiguous"]), "buttons": buttons,
                "custom": {"asks": "commune"}}

    def request(self, session: Session, **override) -> Request:
        f = {**session.facts, **override}
        kwargs = dict(situation=f.get("situation"), commune=f.get("commune"), danger=f.get("danger") is True,
                      distress=bool(f.get("distress")), role=f.get("role"), age_group=f.get("age_group"),
                      profile=frozenset(f.get("profile", ())), needs=frozenset(f.get("needs", ())))
        return Request(**kwargs, gender=f.get("gender"))

    def recommend(self, session: Session, closing: bool = True) -> list[dict]:
        """The plan: first contacts, the others by need, the steps, and "en cas de danger";
        `closing`: end with "Vous pouvez m'écrire autre chose" (not when a question follows)."""
        session.pending = None
        session.recommended = True
        facts = session.facts
        result = self.orienter.orient(self.request(session))
        t = self._texts(facts.get("lang"))
        messages = []
        if facts.get("out_of_area"):
            messages.append({"text": self._tr(session, self.spec.facts["commune"]["out_of_area"])})
        intro = t("recommendation") if facts.get("commune") else t("recommendation_national")
        steps = self.steps(session, result)
        result = replace(result, steps=[{"text": text, "service": None} for text in steps[:1]]
                         + [st for st in result.steps if st["text"] not in steps[:1]]
                         + [{"text": text, "service": None} for text in steps[1:]])
        result = replace(result, steps=result.steps[:MAX_STEPS])
        if facts.get("lang") not in (None, "fr"):
            result = self._translated_plan(result, translator(facts["lang"]))
        step_texts = [st["text"] for st in result.steps]
        custom = {"contacts": result.contacts, "groups": result.groups, "steps": step_texts,
                  "step_details": list(result.steps), "next_steps": step_texts,
                  "if_danger": result.if_danger, "rules": list(result.orientation.rules), "plan": True}
        text = self._localized(session, plan_text(result, intro))
        messages.append({"text": text, "custom": custom})
        tail = []
        if facts.get("role") == "professionnel":
            tail.append(t("pro_search"))
        if "commune" in session.skipped and not facts.get("commune"):
            tail.append(t("local_later"))
        if closing:
            tail.append(t("after"))
        if tail:
            messages.append({"text": " ".join(tail)})
        return messages

    @staticmethod
    def _translated_plan(result, tr):
        """The plan's headings, group titles and steps in the conversation's language (the
        rules' own steps and reasons stay in French where the catalog has no translation)."""
        spec = replace(result.spec, headings={k: tr.gettext(v) for k, v in result.spec.headings.items()})
        return replace(result, spec=spec,
                       groups=[{**g, "title": tr.gettext(g["title"])} if g.get("title") else g for g in result.groups],
                       steps=[{**st, "text": tr.gettext(st["text"])} for st in result.steps])

    @staticmethod
    def _localized(session: Session, text: str) -> str:
        """Contact lines in the conversation's language: the opening notes rules/plan.py
        writes in French (" (jour et nuit)"…), and no space before a colon but in French."""
        lang = session.facts.get("lang")
        if lang in (None, "fr"):
            return text
        tr = translator(lang)
        for note in plan_words():
            text = text.replace(f" ({note})", f" ({tr.gettext(note)})")
        if not lang.startswith("fr"):
            text = _CONTACT_COLON.sub(r"\1: ", _FRENCH_COLON.sub(":", text))
        return text

    def steps(self, session: Session, result=None) -> list[str]:
        """The dialogue's own advice: the role's first (e.g. "Vous n'y êtes pour rien"), then the situation's."""
        ns = self.spec.next_steps
        facts = session.facts
        situation = facts.get("situation")
        # an unknown role reads as the person concerned, unless the situation needs it and the
        # question comes after the plan: then no advice meant for one role only
        role = facts.get("role") or (None if "role" in self.spec.needs.get(situation, ()) else "victime")
        out = list(ns["common"].get(role, []))
        if situation and role not in self.spec.own_steps_only:
            out += ns.get(situation, [])
        return out

    def flag_contacts(self, flag: str, profile=(), role: str | None = None) -> list[dict]:
        """The contacts a flag adds (danger: 17/112/114; distress: 3114), in rule order, with
        the reasons written for the role (a relative or an author is not "en danger")."""
        with_flag = self.orienter.orient(Request(profile=frozenset(profile), role=role, **{flag: True}))
        # what the flag adds to an empty request (not to the profile's own contacts: the SMS
        # 114 a deaf person always gets is also, and first, an emergency contact)
        without = {c["id"] for c in self.orienter.orient(Request(role=role)).contacts}
        # in danger the plan keeps 17 first and 112, SMS 114 under it: all are the flag's
        extra = with_flag.if_danger if flag == "danger" else []
        return [c for c in with_flag.contacts + extra if c["id"] not in without]

    def emergency_message(self, session: Session, text: str | None = None) -> dict:
        """The emergency numbers, first; worded for the person concerned."""
        if text is None:
            who = self._who(session)
            own = self.spec.texts.get(f"danger_{session.facts.get('role')}")  # danger_auteur: not "vous êtes en danger"
            text = (self._tr(session, own) if own else
                    self._tr(session, self.spec.texts["danger_other"]).format(who=who[0]) if who
                    else self._tr(session, self.spec.texts["danger"]))
        contacts = self.flag_contacts("danger", session.facts.get("profile", ()), session.facts.get("role"))
        return {"text": self._localized(session, contacts_text(text, contacts)),
                "custom": {"contacts": contacts, "emergency": True}}

    def distress_message(self, session: Session) -> dict:
        contacts = self.flag_contacts("distress", session.facts.get("profile", ()), session.facts.get("role"))
        return {"text": self._localized(session, contacts_text(self._tr(session, self.spec.texts["distress"]), contacts)),
                "custom": {"contacts": contacts}}


# the French space before a colon after a heading, and after a contact's name (its `why` keeps its own)
_FRENCH_COLON = re.compile(r" :(?=\n|$)", re.M)
_CONTACT_COLON = re.compile(r"^(• [^\n]*?) : (?=[+\d]|SMS |https?:|\S+@)", re.M)

# Texts of the code itself (in the catalogs through bot/i18n.py `EXTRA`).
NONE_OF_THESE = "Aucune de ces communes"
LANGUAGE_QUESTION = "Dans quelle langue voulez-vous continuer ?"

READING_I18N_FILE = Path(__file__).with_name("reading_i18n.yml")


@lru_cache(maxsize=1)
def _reading_i18n() -> dict:
    """{lang: {name: pattern}} for the short answers in English and Arabic."""
    raw = yaml.safe_load(READING_I18N_FILE.read_text(encoding="utf-8"))
    out = {}
    for lang, patterns in raw.items():
        out[lang] = {}
        for name in ("yes", "no", "skip", "safe", "unsafe"):
            source = patterns[name]
            if lang == "ar":  # folded like the text
                source = _AR_MARKS.sub("", source).translate(_AR_MAP)
            out[lang][name] = _compile(name, source, READING_I18N_FILE)
    return out


_RELATIVE_CACHE: dict = {}


def _relative_pattern(relatives: dict) -> re.Pattern:
    key = tuple(relatives)
    rx = _RELATIVE_CACHE.get(key)
    if rx is None:
        def alternation(keys):
            return "|".join(sorted((re.escape(k) for k in keys), key=len, reverse=True))
        named = [k for k, v in relatives.items() if len(v) > 2]  # "la petite": named without a possessive
        # the writer's possessives only: in "son beau-père la touche" he is not the one concerned
        rx = re.compile(rf"\b(?:(?:ma|mon|notre) ({alternation(relatives)})|(?:la|le) ({alternation(named)}))\b")
        _RELATIVE_CACHE[key] = rx
    return rx
