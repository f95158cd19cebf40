"""The rules-driven dialogue, answering in the Rasa REST channel's message shape.

Each turn: commands first (/effacer, /restart, aide), then the deterministic danger
and distress check (through the understanding layer, which runs it before anything
else), then the facts the message gives, then either the next question the rules
need (never more than one per message) or the recommendation. Any error answers
with the emergency contacts. No message text is logged or stored.
"""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from directory import Directory
from rules import Orienter, Request

from .normalize import normalize
from .sessions import Session, SessionStore

__all__ = ["Dialogue", "DialogueSpec", "MAX_MESSAGE", "load_spec"]

log = logging.getLogger("orientation.dialogue")
SPEC_FILE = Path(__file__).with_name("dialogue.yml")
MAX_MESSAGE = 2000
CONFIDENT = 0.45  # a situation scored above this is taken without asking
PAYLOAD = re.compile(r"^/(\w+)(\{.*\})?$", re.S)
FACTS = ("danger", "situation", "commune", "role", "age_group")


@dataclass(frozen=True)
class DialogueSpec:
    order: tuple[str, ...]
    facts: dict
    needs: dict
    texts: dict
    next_steps: dict
    skip: frozenset
    yes: frozenset
    no: frozenset
    help: frozenset


def load_spec(path: Path = SPEC_FILE, situations=None) -> DialogueSpec:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    problems = [f"fait inconnu « {f} » dans order" for f in raw["order"] if f not in FACTS]
    for code, needed in raw["needs"].items():
        problems += [f"fait inconnu « {f} » pour {code}" for f in needed if f not in FACTS]
    if situations is not None:
        problems += [f"situation sans besoins déclarés : {c}" for c in situations if c not in raw["needs"]]
    if problems:
        raise ValueError(f"{Path(path).name} : " + " ; ".join(problems))
    return DialogueSpec(
        order=tuple(raw["order"]), facts=raw["facts"], needs=raw["needs"], texts=raw["texts"],
        next_steps=raw["next_steps"], skip=frozenset(raw["skip_phrases"]), yes=frozenset(raw["yes_phrases"]),
        no=frozenset(raw["no_phrases"]), help=frozenset(raw["help_phrases"]),
    )


def _hours_note(contact: dict) -> str:
    if contact.get("closed"):
        return " (fermé temporairement)"
    if contact["hours"] == "24/7":
        return " (jour et nuit)"
    if contact["open_now"] is True:
        return " (ouvert maintenant)"
    if contact["open_now"] is False:
        return " (fermé en ce moment)"
    return ""


def contacts_text(intro: str, contacts: list[dict]) -> str:
    lines = [intro]
    for c in contacts:
        reach = []
        if c["phone_display"] and c["phone"]:
            reach.append(c["phone_display"])
        if c["sms"]:
            reach.append(f"SMS {c['sms']}")
        if not reach and c["url"]:
            reach.append(c["url"])
        how = f" : {' ou '.join(reach)}" if reach else ""
        # bullets, not numbers: the only digits in a reply are the directory's phone numbers
        lines.append(f"• {c['name']}{how}{_hours_note(c)}. {c['why']}")
    return "\n".join(lines)


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
    def handle(self, sender: str, message: object) -> list[dict]:
        """Bot messages for one user message (without recipient_id: the channel adds it)."""
        t = self.spec.texts
        if not isinstance(message, str):
            return [{"text": t["not_text"]}]
        text = message.strip()
        if len(text) > MAX_MESSAGE:
            return [{"text": t["too_long"]}]
        command = text.lower()
        if command in ("/effacer", "effacer", "/erase"):
            self.store.forget(sender)
            return [{"text": t["erased"]}]
        if command in ("/restart", "/recommencer", "recommencer"):
            self.store.forget(sender)
            return [{"text": t["restarted"]}, self._ask(self.store.get(sender), "situation")]
        if not text:
            return [{"text": t["empty"]}]
        session = self.store.get(sender)
        try:
            return self._turn(session, text)
        except Exception as exc:  # fail safe, and never log the message
            log.error("dialogue turn failed (%s): answering with the emergency contacts", type(exc).__name__)
            return [self._emergency(session, t["error"])]

    def emergency(self, sender: str) -> list[dict]:
        """The fail-safe answer (emergency contacts), e.g. when another back end fails."""
        return [self._emergency(self.store.get(sender), self.spec.texts["error"])]

    # -- one turn ------------------------------------------------------------------------
    def _turn(self, session: Session, text: str) -> list[dict]:
        out: list[dict] = []
        before = dict(session.facts)
        match = PAYLOAD.match(text)
        if match:
            intent, entities = match.group(1), match.group(2)
            if intent == "aide":
                return [{"text": self.spec.texts["help"]}, *self._next(session, before, force_ask=True)]
            if intent == "passer":
                self._skip(session)
            elif intent == "informer" and entities:
                self._apply_payload(session, entities)
            if session.facts.get("danger") and not before.get("danger"):
                # "Non, je suis en danger": the emergency numbers at once, then the rest
                out.append(self._emergency(session, self.spec.texts["danger"]))
            return out + self._next(session, before)
        norm = normalize(text)
        if norm in self.spec.help:
            return [{"text": self.spec.texts["help"]}, *self._next(session, before, force_ask=True)]
        u = self.understander.understand(text)
        if norm in self.spec.skip:
            self._skip(session)
        elif session.pending in ("danger", "age_group") and norm in self.spec.yes | self.spec.no:
            fact = self.spec.facts[session.pending]
            session.facts[session.pending] = fact["if_yes"] if norm in self.spec.yes else fact["if_no"]
        self._apply_understanding(session, u, text)
        if session.facts.get("danger") and not before.get("danger") and not u.danger:
            out.append(self._emergency(session, self.spec.texts["danger"]))  # answered "non" to "en sécurité ?"
        # Danger and distress answer at once, before anything else of this turn; the
        # conversation then goes on (next question or full recommendation).
        if u.distress:
            session.facts["distress"] = True
            out.insert(0, self._distress(session))
        if u.danger:
            session.facts["danger"] = True
            out.insert(0, self._emergency(session, self.spec.texts["danger"]))
        return out + self._next(session, before)

    def _skip(self, session: Session) -> None:
        if session.pending:
            session.skipped.add(session.pending)
            if session.pending == "commune":
                session.facts.pop("commune", None)

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
            if key == "danger" and isinstance(value, bool):
                session.facts["danger"] = value
            elif key in allowed and value in allowed[key]:
                session.facts[key] = value
                session.skipped.discard(key)
            elif key == "commune" and isinstance(value, str) and self.directory.commune(value):
                session.facts["commune"] = value
                session.choices = []

    def _apply_understanding(self, session: Session, u, text: str) -> None:
        facts = session.facts
        if u.situations:
            code, score = u.situations[0]
            # a confident guess is taken; a hesitant one only as the answer to the question
            if score >= CONFIDENT or session.pending == "situation":
                facts["situation"] = code
                session.skipped.discard("situation")
        if u.commune:
            facts["commune"] = u.commune.insee
            session.choices = []
            session.skipped.discard("commune")
        elif u.commune_candidates:
            session.choices = [c.insee for c in u.commune_candidates[:6]]
        elif u.out_of_area:
            facts["commune"] = None
            facts["out_of_area"] = True
        elif session.pending == "commune":
            self._resolve_answer(session, text)
        for key in ("role", "age_group"):
            value = getattr(u, key)
            if value:
                facts[key] = value
        if u.needs:
            facts["needs"] = sorted(set(facts.get("needs", ())) | set(u.needs))
        if u.profile:
            facts["profile"] = sorted(set(facts.get("profile", ())) | set(u.profile))

    def _resolve_answer(self, session: Session, text: str) -> None:
        """A bare answer to "which commune?": resolve it directly (typos, postal codes)."""
        res = self.directory.resolve_commune(text)
        if res.status == "found":
            session.facts["commune"] = res.commune.insee
            session.choices = []
        elif res.status == "ambiguous":
            session.choices = [m.commune.insee for m in res.candidates[:6]]
        elif res.status == "out_of_area":
            session.facts["commune"] = None
            session.facts["out_of_area"] = True

    # -- what comes next ------------------------------------------------------------------
    def _missing(self, session: Session) -> str | None:
        facts = session.facts
        situation = facts.get("situation")
        if situation is None and "situation" not in session.skipped:
            return "situation"
        needed = self.spec.needs.get(situation, ["commune"]) if situation else ["commune"]
        for fact in self.spec.order:
            if fact in needed and fact not in facts and fact not in session.skipped:
                return fact
        return None

    def _next(self, session: Session, before: dict, force_ask: bool = False) -> list[dict]:
        if session.choices and "commune" not in session.facts:
            return [self._ask_choice(session)]
        missing = self._missing(session)
        if missing:
            repeat = session.pending == missing and not force_ask and session.facts == before
            return [self._ask(session, missing, repeat=repeat)]
        if session.recommended and session.facts == before and not force_ask:
            return [{"text": self.spec.texts["after"]}]
        return self._recommend(session)

    def _ask(self, session: Session, fact: str, repeat: bool = False) -> dict:
        session.pending = fact
        spec = self.spec.facts[fact]
        text = spec.get("repeat") if repeat and spec.get("repeat") else spec["question"]
        msg = {"text": text, "custom": {"asks": fact}}
        if spec.get("buttons"):
            msg["buttons"] = [dict(b) for b in spec["buttons"]]
        return msg

    def _ask_choice(self, session: Session) -> dict:
        session.pending = "commune"
        buttons = []
        for insee in session.choices:
            c = self.directory.commune(insee)
            buttons.append({"title": f"{c.name} ({', '.join(c.postal_codes)})",
                            "payload": json.dumps({"commune": insee}, ensure_ascii=False).join(("/informer", ""))})
        buttons.append({"title": "Aucune de ces communes", "payload": "/passer"})
        return {"text": self.spec.facts["commune"]["ambiguous"], "buttons": buttons, "custom": {"asks": "commune"}}

    def _request(self, session: Session, **override) -> Request:
        f = {**session.facts, **override}
        return Request(situation=f.get("situation"), commune=f.get("commune"), danger=bool(f.get("danger")),
                       distress=bool(f.get("distress")), role=f.get("role"), age_group=f.get("age_group"),
                       profile=frozenset(f.get("profile", ())), needs=frozenset(f.get("needs", ())))

    def _recommend(self, session: Session) -> list[dict]:
        session.pending = None
        session.recommended = True
        result = self.orienter.orient(self._request(session))
        t = self.spec.texts
        messages = []
        if session.facts.get("out_of_area"):
            messages.append({"text": self.spec.facts["commune"]["out_of_area"]})
        intro = t["recommendation"] if session.facts.get("commune") else t["recommendation_national"]
        steps = self._steps(session)
        messages.append({"text": contacts_text(intro, result.contacts),
                         "custom": {"contacts": result.contacts, "rules": list(result.orientation.rules),
                                    "next_steps": steps}})
        if steps:
            messages.append({"text": "Ce que vous pouvez faire :\n" + "\n".join(f"- {s}" for s in steps)})
        messages.append({"text": t["after"]})
        return messages

    def _steps(self, session: Session) -> list[str]:
        ns = self.spec.next_steps
        role = session.facts.get("role") or "victime"
        steps = list(ns["common"].get(role, []))
        situation = session.facts.get("situation")
        if situation and role != "professionnel":
            steps += ns.get(situation, [])
        return steps

    def flag_contacts(self, flag: str, profile=()) -> list[dict]:
        """The contacts a flag adds (danger: 17/112/114; distress: 3114), in rule order."""
        base = Request(profile=frozenset(profile))
        with_flag = self.orienter.orient(Request(profile=frozenset(profile), **{flag: True}))
        without = {c["id"] for c in self.orienter.orient(base).contacts}
        return [c for c in with_flag.contacts if c["id"] not in without]

    def _emergency(self, session: Session, text: str) -> dict:
        contacts = self.flag_contacts("danger", session.facts.get("profile", ()))
        return {"text": contacts_text(text, contacts), "custom": {"contacts": contacts, "emergency": True}}

    def _distress(self, session: Session) -> dict:
        contacts = self.flag_contacts("distress", session.facts.get("profile", ()))
        return {"text": contacts_text(self.spec.texts["distress"], contacts), "custom": {"contacts": contacts}}
