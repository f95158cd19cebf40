"""The action server of the Rasa profile (rasa-sdk 3.21 on the project's Python).

Rasa (DIET) says which intent a message is, and finds entities; everything else is
ours, so the Rasa assistant gives the same contacts as our engine:

* `action_verifier_urgence`: a custom slot mapping, so Rasa runs it on every user
  message, whatever the form is doing. It runs our deterministic danger and distress
  rules (bot/danger.py) and sets the `alerte` slot; a rule then sends
  `action_urgence` (17 / 112 / SMS 114 first, 3114 for distress) before the questions.
* `validate_orientation_form`: the dialogue's own turn (bot/dialogue.py), with DIET's
  intent in place of our situation classifier: danger and distress checked again on
  every message (the emergency contacts answer at once), payloads of the buttons,
  skips, yes and no, help, the commune resolved by the directory, role, age group and
  needs by our profile rules. It chooses the next question (`requested_slot`) as the
  dialogue does, or ends the form.
* `action_ask_commune`: the commune question, again when not found, or the candidates
  as buttons when a name is ambiguous.
* `action_orientation`: the contacts of our rules (`custom.contacts`, the contract's
  Contact objects), the next steps, exactly as our engine's recommendation.
* `action_effacer`: forget the conversation (the tracker store drops it).

Fails safe: any error while answering gives the emergency contacts. Never logs a
message, an entity or a tracker (the action server receives the whole conversation on
every call): only action names and exception types.

rasa_sdk is imported only inside `make_actions` and `serve`, so the main product never
needs it; the logic (`Assistant`) is plain Python, tested without Rasa.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from directory import Directory
from rules import Orienter

from .danger import detect
from .dialogue import FACTS, MAX_MESSAGE, PAYLOAD, Dialogue, DialogueSpec, load_spec
from .normalize import normalize
from .sessions import Session
from .situation import MAX_CHARS
from .understand import Reader, Understanding

__all__ = ["Assistant", "Turn", "DietUnderstander", "merge_split_messages", "make_actions", "serve", "ACTION_NAMES"]

log = logging.getLogger("orientation.rasa_actions")
CONFIDENT = 0.45     # as bot.dialogue: a situation above this is taken without asking
SMALL_TALK_MIN = 0.6  # DIET's yes / no / "I don't know" are taken on short messages above this
SHORT = 4            # words
ACTION_NAMES = ("action_verifier_urgence", "action_urgence", "validate_orientation_form", "action_ask_commune",
                "action_orientation", "action_effacer")


def merge_split_messages(messages: list[dict]) -> list[dict]:
    """Rasa's REST channel sends a message's `custom` as a message of its own, right
    after its text and buttons. Put it back into the message before it, so that a
    Rasa reply has the contract's shape (and the chat page shows it as our engine's)."""
    out: list[dict] = []
    for m in messages:
        only_custom = set(m) <= {"recipient_id", "custom"} and "custom" in m
        if only_custom and out and "custom" not in out[-1] and out[-1].get("recipient_id") == m.get("recipient_id"):
            out[-1] = {**out[-1], "custom": m["custom"]}
        else:
            out.append(dict(m))
    return out


class DietUnderstander(Reader):
    """Our reading pipeline (`bot.understand.Reader`), with DIET's intent in place of our
    situation classifier, completed by DIET's entities: after the commune question, a
    `commune` entity of the lookup table resolved by the directory; `role` and `need`
    entities where our profile rules found none."""

    def __init__(self, directory: Directory, latest_message: dict, pending: str | None = None):
        super().__init__(directory)
        self.latest = latest_message or {}
        self.pending = pending  # the question asked: a bare commune name is expected after "commune"

    def classify(self, text: str, norm: str, cues: list[str]) -> list[tuple[str, float]]:
        ranking = self.latest.get("intent_ranking") or [self.latest.get("intent") or {}]
        top = next((r for r in ranking if r.get("name") and r["name"] != "nlu_fallback"), None)
        if not top or top["name"] not in self.directory.vocabulary.situations:
            return []
        return [(top["name"], float(top.get("confidence") or 0.0))]

    def _entities(self, name: str) -> list:
        return [e.get("value") for e in self.latest.get("entities") or [] if e.get("entity") == name]

    def understand(self, text: str) -> Understanding:
        result = super().understand(text)
        if result.failed:
            return result
        try:
            self._complete(result)
        except Exception as exc:
            log.error("reading DIET's entities failed (%s): answering as danger", type(exc).__name__)
            return Understanding(danger=True, danger_level="certain", distress=result.distress, failed=True)
        return result

    def _complete(self, result: Understanding) -> None:
        if self.pending == "commune" and not (result.commune or result.commune_candidates or result.out_of_area):
            for value in self._entities("commune"):
                if isinstance(value, str) and value.strip():
                    res = self.directory.resolve_commune(value)
                    if res.found:
                        result.commune = res.commune
                        break
                    if res.status == "ambiguous" and not result.commune_candidates:
                        result.commune_candidates = [m.commune for m in res.candidates]
        v = self.directory.vocabulary
        roles = [r for r in self._entities("role") if r in v.roles]
        result.role = result.role or (roles[0] if roles else None)
        needs = [n for n in self._entities("need") if n in v.needs]
        result.needs = sorted(set(result.needs) | set(needs))


@dataclass
class Turn:
    """What an action answers: messages (engine shape: text, buttons, custom) and slots."""

    messages: list[dict]
    slots: dict
    requested: str | None = None  # the form's next question (validation only); None ends the form


class Assistant:
    """The logic of the actions, on plain dicts (the tracker's slots and latest message)."""

    def __init__(self, directory: Directory, orienter: Orienter, spec: DialogueSpec | None = None):
        self.directory = directory
        self.orienter = orienter
        self.spec = spec if spec is not None else load_spec(situations=directory.vocabulary.situations)
        self.texts = self.spec.texts

    # -- conversation state <-> slots ----------------------------------------------------------
    @staticmethod
    def session_from(slots: dict) -> Session:
        # `etat` holds what slots cannot: the facts' provenance, the person concerned
        # (Session.to_dict: facts only, never a message); the fact slots win over it.
        state = slots.get("etat")
        base = Session.from_dict(state) if isinstance(state, dict) else Session()
        facts: dict = {k: v for k, v in base.facts.items() if k not in FACTS}
        for fact in FACTS:
            value = slots.get(fact)
            if value is not None:
                facts[fact] = value
        if slots.get("out_of_area"):
            facts["out_of_area"] = True
            facts.setdefault("commune", None)
        if slots.get("distress"):
            facts["distress"] = True
        for key in ("needs", "profile"):
            if slots.get(key):
                facts[key] = sorted(slots[key])
        return Session(facts=facts, sources=base.sources, skipped=set(slots.get("passes") or ()),
                       pending=slots.get("requested_slot"), choices=list(slots.get("choix_communes") or ()),
                       recommended=bool(slots.get("oriente")))

    @staticmethod
    def slots_of(session: Session) -> dict:
        f = session.facts
        return {
            "danger": f.get("danger"), "situation": f.get("situation"), "commune": f.get("commune"),
            "role": f.get("role"), "age_group": f.get("age_group"), "distress": True if f.get("distress") else None,
            "needs": list(f.get("needs", [])), "profile": list(f.get("profile", [])),
            "out_of_area": True if f.get("out_of_area") else None, "choix_communes": list(session.choices),
            "passes": sorted(session.skipped), "etat": session.to_dict(),
        }

    @staticmethod
    def digest(session: Session) -> str:
        return json.dumps(session.facts, sort_keys=True, ensure_ascii=True)

    def _dialogue(self, latest: dict, pending: str | None = None) -> Dialogue:
        return Dialogue(self.directory, self.orienter, DietUnderstander(self.directory, latest, pending), spec=self.spec)

    # -- danger and distress: our deterministic rules ----------------------------------------
    def check(self, latest: dict) -> tuple[bool, bool]:
        """(danger, distress) for the latest message. A button saying "I am in danger"
        counts as danger. Any error counts as danger."""
        text = (latest or {}).get("text") or ""
        try:
            match = PAYLOAD.match(text.strip())
            if match:
                entities = json.loads(match.group(2)) if match.group(2) else {}
                return isinstance(entities, dict) and entities.get("danger") is True, False
            flags = detect(text[:MAX_CHARS])
            return flags.danger, flags.distress
        except Exception as exc:
            log.error("danger check failed (%s): answering as danger", type(exc).__name__)
            return True, False

    def verifier(self, latest: dict) -> dict:
        danger, distress = self.check(latest)
        return {"alerte": bool(danger or distress)}

    def urgence(self, latest: dict, slots: dict) -> Turn:
        danger, distress = self.check(latest)
        session = self.session_from(slots)
        d = self._dialogue(latest)
        messages, updates = [], {}
        if danger or not distress:  # alerte without a reason is an error: the emergency numbers
            messages.append(d.emergency_message(session))
            updates["danger"] = True
        if distress:
            messages.append(d.distress_message(session))
            updates["distress"] = True
        return Turn(messages, updates)

    # -- the form --------------------------------------------------------------------------------
    def _small_talk(self, latest: dict, text: str, pending: str | None) -> str:
        """DIET's yes / no / "I don't know" on a short message, as the button it means."""
        intent = (latest.get("intent") or {})
        name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
        norm = normalize(text)
        reading = self.spec.reading
        if (PAYLOAD.match(text) or confidence < SMALL_TALK_MIN or len(norm.split()) > SHORT or norm in self.spec.help
                or any(reading[k].search(norm) for k in ("yes", "no", "skip", "safe", "unsafe"))):
            return text  # our own reading understands it
        if name == "ne_sait_pas":
            return "/passer"
        if name == "aide":
            return "/aide"
        if name in ("affirmer", "nier") and pending in ("danger", "age_group"):
            fact = self.spec.facts[pending]
            value = fact["if_yes"] if name == "affirmer" else fact["if_no"]
            return "/informer" + json.dumps({pending: value})
        return text

    def validate(self, latest: dict, slots: dict, urgence_done: bool = False) -> Turn:
        """One user message inside the form: the dialogue's turn, then the next question."""
        latest = latest or {}
        text = (latest.get("text") or "").strip()
        session = self.session_from(slots)
        was_in_danger = session.facts.get("danger") is True
        danger, distress = self.check(latest)
        d = self._dialogue(latest, session.pending)
        before, force_ask = dict(session.facts), True
        try:
            if len(text) > MAX_MESSAGE:
                out = [{"text": self.texts["too_long"]}]
            elif not text:
                out = [{"text": self.texts["empty"]}]
            else:
                result = d.absorb(session, self._small_talk(latest, text, session.pending))
                before, force_ask = result.before, result.force_ask
                # the form asks the question itself: keep only what goes with it
                out = [m for m in result.messages if (m.get("custom") or {}).get("asks") is None]
        except Exception as exc:  # fail safe, never log the message
            log.error("form turn failed (%s): answering with the emergency contacts", type(exc).__name__)
            return Turn([d.emergency_message(session, self.texts["error"])], {"danger": True, **self._keep(slots)},
                        slots.get("requested_slot"))
        if danger:
            session.facts["danger"] = True
        if distress:
            session.facts["distress"] = True
        emergency = [m for m in out if (m.get("custom") or {}).get("emergency")]
        support = [m for m in out if m.get("text", "").startswith(self.texts["distress"])]
        rest = [m for m in out if m not in emergency and m not in support]
        if urgence_done:  # action_urgence already answered this message
            emergency, support = [], []
        else:
            if session.facts.get("danger") is True and not was_in_danger and not emergency:
                # "Non, je suis en danger" (button or words): the numbers now, not after the questions
                emergency = [d.emergency_message(session)]
            if distress and not support:
                support = [d.distress_message(session)]
        if session.choices and not session.facts.get("commune"):
            requested, repeat = "commune", False
        else:
            requested = d.missing(session)
            repeat = bool(requested) and session.pending == requested and not force_ask and session.facts == before
        session.pending = requested
        return Turn(emergency + support + rest, {**self.slots_of(session), "relance": repeat}, requested)

    def _keep(self, slots: dict) -> dict:
        return {k: slots.get(k) for k in ("situation", "commune", "role", "age_group")}

    def ask_commune(self, slots: dict) -> list[dict]:
        session = self.session_from(slots)
        d = self._dialogue({})
        if session.choices and not session.facts.get("commune"):
            return [d.ask_choice(session)]
        return [d.ask(session, "commune", repeat=bool(slots.get("relance")))]

    # -- the answer --------------------------------------------------------------------------------
    def orientation(self, slots: dict) -> Turn:
        session = self.session_from(slots)
        digest = self.digest(session)
        d = self._dialogue({})
        if slots.get("oriente") == digest:
            return Turn([{"text": self.texts["after"]}], {})
        try:
            messages = d.recommend(session)
        except Exception as exc:
            log.error("orientation failed (%s): answering with the emergency contacts", type(exc).__name__)
            return Turn([d.emergency_message(session, self.texts["error"])], {})
        return Turn(messages, {"oriente": digest, "relance": False})

    def effacer(self) -> list[dict]:
        return [{"text": self.texts["erased"]}]


# -- rasa-sdk ------------------------------------------------------------------------------------
def _utter(dispatcher, message: dict) -> None:
    dispatcher.utter_message(text=message.get("text"), buttons=message.get("buttons") or None,
                             json_message=message.get("custom") or None)


def make_actions(assistant: Assistant) -> list:
    """The rasa-sdk actions over an Assistant (imports rasa_sdk)."""
    from rasa_sdk import Action
    from rasa_sdk.events import FollowupAction, Restarted, SlotSet

    def urgence_done(tracker) -> bool:
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                return False
            if event.get("event") == "action" and event.get("name") == "action_urgence":
                return True
        return False

    def fail_safe(name: str, dispatcher, exc: Exception) -> None:
        log.error("%s failed (%s): answering with the emergency contacts", name, type(exc).__name__)
        session = Session()
        _utter(dispatcher, assistant._dialogue({})._emergency(session, assistant.texts["error"]))

    class VerifierUrgence(Action):
        def name(self) -> str:
            return "action_verifier_urgence"

        async def run(self, dispatcher, tracker, domain):
            return [SlotSet(k, v) for k, v in assistant.verifier(tracker.latest_message).items()]

    class Urgence(Action):
        def name(self) -> str:
            return "action_urgence"

        async def run(self, dispatcher, tracker, domain):
            try:
                turn = assistant.urgence(tracker.latest_message, tracker.slots)
            except Exception as exc:
                fail_safe(self.name(), dispatcher, exc)
                return [SlotSet("danger", True)]
            for m in turn.messages:
                _utter(dispatcher, m)
            return [SlotSet(k, v) for k, v in turn.slots.items()]

    class ValidateForm(Action):
        def name(self) -> str:
            return "validate_orientation_form"

        async def run(self, dispatcher, tracker, domain):
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            if intent == "effacer":
                return []  # the form steps aside: the rule for /effacer answers
            try:
                turn = assistant.validate(tracker.latest_message, tracker.slots, urgence_done(tracker))
            except Exception as exc:
                fail_safe(self.name(), dispatcher, exc)
                return [SlotSet("danger", True), SlotSet("requested_slot", tracker.get_slot("requested_slot"))]
            for m in turn.messages:
                _utter(dispatcher, m)
            events = [SlotSet(k, v) for k, v in turn.slots.items()]
            return events + [SlotSet("requested_slot", turn.requested)]

    class AskCommune(Action):
        def name(self) -> str:
            return "action_ask_commune"

        async def run(self, dispatcher, tracker, domain):
            try:
                messages = assistant.ask_commune(tracker.slots)
            except Exception as exc:
                fail_safe(self.name(), dispatcher, exc)
                return []
            for m in messages:
                _utter(dispatcher, m)
            return []

    class Orientation(Action):
        def name(self) -> str:
            return "action_orientation"

        async def run(self, dispatcher, tracker, domain):
            try:
                turn = assistant.orientation(tracker.slots)
            except Exception as exc:
                fail_safe(self.name(), dispatcher, exc)
                return []
            for m in turn.messages:
                _utter(dispatcher, m)
            return [SlotSet(k, v) for k, v in turn.slots.items()]

    class Effacer(Action):
        def name(self) -> str:
            return "action_effacer"

        async def run(self, dispatcher, tracker, domain):
            for m in assistant.effacer():
                _utter(dispatcher, m)
            # Restarted: the tracker store drops the conversation; then wait for the user.
            return [Restarted(), FollowupAction("action_listen")]

    return [VerifierUrgence(), Urgence(), ValidateForm(), AskCommune(), Orientation(), Effacer()]


def serve(assistant: Assistant, host: str = "127.0.0.1", port: int = 5055) -> None:
    """Serve the actions (blocking). Loopback only, no access log, no CORS, and error
    answers that never echo the request (which holds the conversation)."""
    import logging as _logging

    from rasa_sdk.endpoint import create_app
    from rasa_sdk.executor import ActionExecutor
    from sanic import response

    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"le serveur d'actions n'écoute que sur la boucle locale, pas sur « {host} »")
    executor = ActionExecutor()
    for action in make_actions(assistant):
        executor.register_action(action)
    app = create_app(executor, cors_origins="")

    async def _error(request, exception):
        log.error("action server error (%s)", type(exception).__name__)
        return response.json({"error": "erreur interne du serveur d'actions"}, status=500)

    # Replace the SDK's handler for unexpected errors: it logs the request and sends its
    # body (the whole conversation) back in the answer.
    app.error_handler.cached_handlers[(Exception, None)] = _error

    # rasa_sdk's executor logs at DEBUG the action names only; keep INFO and below quiet.
    _logging.getLogger("rasa_sdk").setLevel(_logging.WARNING)
    _logging.getLogger("sanic.access").disabled = True
    app.config.KEEP_ALIVE_TIMEOUT = 30
    app.run(host=host, port=port, single_process=True, access_log=False, motd=False)
