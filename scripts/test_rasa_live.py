"""Live check of the Rasa profile through Rasa's REST channel (part of `make test-rasa`).

Starts Rasa 3.6 (.venv-rasa, the model of build/rasa) and our action server on free
loopback ports, plays conversations, and checks:

* the main conversation ends with the same contacts as our engine for the same
  messages, 3919 and the local network (03 23 79 30 14 for Chauny and Laon);
* a message in danger gets 17 / 112 / SMS 114 first, distress gets 3114;
* the buttons' payloads are the dialogue's, the button path works, out of the area
  gives the national numbers, `/effacer` forgets;
* no message text reaches the logs of either server (a unique marker is searched);
* the tracker store in use is the forgetting one.

Exit 1 on any failure. Bounded: a handful of conversations, 30 s per request at most.
Run with the project's venv (with the `[rasa]` extra): `.venv/bin/python scripts/test_rasa_live.py`.
"""
from __future__ import annotations

import socket
import sys
import uuid
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "rasa")]

from bot.rasa_actions import merge_split_messages  # noqa: E402
from rasa_servers import BUILD, Backends  # noqa: E402

EMERGENCY = ["17", "112", "114"]
MAIN = ["bonjour", "mon mari me frappe depuis des mois", "oui", "Chauny", "à moi"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def numbers(message: dict) -> list[str]:
    return [c["phone"] or c["sms"] for c in (message.get("custom") or {}).get("contacts", [])]


class Checks:
    def __init__(self):
        self.failures: list[str] = []

    def check(self, ok: bool, what: str) -> None:
        print(("ok     " if ok else "ÉCHEC  ") + what)
        if not ok:
            self.failures.append(what)


def engine(messages: list[str]) -> list[dict]:
    """Our engine's replies to the same messages (in-process)."""
    from bot.dialogue import Dialogue
    from bot.understand import Understander
    from directory import Directory
    from rules import Orienter
    from web.settings import Settings

    s = Settings.from_env()
    d = Directory.open(s.db, s.data_dir)
    dialogue = Dialogue(d, Orienter(d, s.rules_dir), Understander(d, s.model_dir))
    sender = uuid.uuid4().hex
    replies: list[dict] = []
    for m in messages:
        replies += dialogue.handle(sender, m)
    return replies


def main() -> int:
    checks = Checks()
    spec = yaml.safe_load((ROOT / "bot" / "dialogue.yml").read_text(encoding="utf-8"))
    marker = f"MARQUEUR-{uuid.uuid4().hex[:12]}"
    with Backends(BUILD, port=free_port(), actions_port=free_port()) as b:
        print(f"Rasa prêt en {b.rasa_start:.1f} s, actions en {b.actions_start:.1f} s")
        client = httpx.Client(base_url=b.url, timeout=30)

        def say(sender: str, message: str) -> list[dict]:
            r = client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message})
            r.raise_for_status()
            return merge_split_messages(r.json())

        def conversation(messages: list[str]) -> list[list[dict]]:
            sender = uuid.uuid4().hex
            turns = [say(sender, m) for m in messages]
            say(sender, "/effacer")
            return turns

        # 1. The main conversation: the same contacts as our engine, 3919 and the local network.
        turns = conversation(MAIN)
        last = [m for m in turns[-1] + turns[-2] if numbers(m)]
        got = numbers(last[-1]) if last else []
        expected = [numbers(m) for m in engine(MAIN) if numbers(m)]
        checks.check(bool(expected) and got == expected[-1],
                     f"conversation principale : mêmes contacts que notre moteur ({', '.join(filter(None, got))})")
        checks.check("3919" in got and "0323793014" in got, "Chauny : 3919 et le réseau de Laon, Chauny, La Fère (03 23 79 30 14)")
        first_question = turns[0][-1]
        checks.check((first_question.get("custom") or {}).get("asks") == "situation"
                     and [bt["payload"] for bt in first_question.get("buttons", [])]
                     == [bt["payload"] for bt in spec["facts"]["situation"]["buttons"]],
                     "la question de la situation porte les boutons du dialogue, charges utiles intactes")
        danger_q = turns[1][-1]
        checks.check([bt["payload"] for bt in danger_q.get("buttons", [])]
                     == [bt["payload"] for bt in spec["facts"]["danger"]["buttons"]],
                     "la question du danger porte les boutons du dialogue, charges utiles intactes")

        # 2. Laon, said at once.
        turns = conversation(["mon conjoint me frappe, j'habite à Laon", "oui"])
        got = [n for t in turns for m in t for n in numbers(m)]
        checks.check("3919" in got and "0323793014" in got, "Laon : 3919 et 03 23 79 30 14")

        # 3. Danger first: 17 / 112 / SMS 114 before anything else.
        turns = conversation(["il est devant la porte avec un couteau, il va me tuer"])
        first = turns[0][0] if turns[0] else {}
        checks.check((first.get("custom") or {}).get("emergency") is True and numbers(first)[:3] == EMERGENCY,
                     "danger : la première réponse donne 17, 112 et le SMS 114, dans cet ordre")
        # ... also when it comes in the middle of the questions
        turns = conversation(["on m'a volé ma voiture", "il revient, il a un couteau, il va me tuer"])
        first = turns[1][0] if turns[1] else {}
        checks.check((first.get("custom") or {}).get("emergency") is True and numbers(first)[:3] == EMERGENCY,
                     "danger pendant les questions : 17, 112, 114 d'abord")
        # ... and when the person answers "Non, je suis en danger"
        turns = conversation(["mon conjoint contrôle mon téléphone et mon argent", '/informer{"danger": true}'])
        first = turns[1][0] if turns[1] else {}
        checks.check(numbers(first)[:3] == EMERGENCY, "bouton « Non, je suis en danger » : 17, 112, 114 tout de suite")

        # 4. Distress: 3114.
        turns = conversation(["je n'en peux plus, j'ai envie de mourir"])
        got = [n for m in turns[0] for n in numbers(m)]
        checks.check("3114" in got, "détresse : 3114")

        # 5. Buttons only; a postal code shared by several communes, then the choice.
        chauny = '/informer{"commune": "02173"}'
        path = ['/informer{"situation": "escroquerie"}', "02300", chauny]
        turns = conversation(path)
        choices = [bt["payload"] for m in turns[1] for bt in m.get("buttons", [])]
        got = [n for m in turns[2] for n in numbers(m)]
        expected = [n for m in engine(path)[-3:] for n in numbers(m)]
        checks.check(any((m.get("custom") or {}).get("asks") == "commune" for m in turns[0])
                     and any(m.get("text") == spec["facts"]["commune"]["ambiguous"] for m in turns[1])
                     and chauny in choices and "/passer" in choices and got and got == expected,
                     "boutons : la situation, un code postal partagé, le choix de la commune, puis les contacts")

        # 6. Out of the area: the national numbers.
        turns = conversation(["on m'a cambriolé", "non, ils sont partis", "Lille"])
        texts = " ".join(m.get("text", "") for m in turns[2])
        checks.check(spec["facts"]["commune"]["out_of_area"] in texts and any(numbers(m) for m in turns[2]),
                     "hors du territoire : le message et les numéros nationaux")

        # 7. /effacer forgets: the next message starts over.
        sender = uuid.uuid4().hex
        say(sender, "mon mari me frappe")
        erased = say(sender, "/effacer")
        again = say(sender, "bonjour")
        checks.check(any(m.get("text") == spec["texts"]["erased"] for m in erased)
                     and (again[-1].get("custom") or {}).get("asks") == "situation",
                     "/effacer : confirmé, et la conversation suivante repart de zéro")

        # 8. No message text in the logs.
        conversation([f"bonjour {marker}", f"{marker} mon mari me frappe à Chauny", "oui"])
        logs = b.logs_text()
        checks.check(marker not in logs, "aucun texte de message dans les journaux de Rasa et du serveur d'actions")
        checks.check("ForgetfulTrackerStore" in logs, "le tracker store qui oublie est celui en service")
        checks.check("Traceback" not in logs and " ERROR " not in logs, "aucune erreur dans les journaux")
    print(f"{len(checks.failures)} échec(s)")
    return 1 if checks.failures else 0


if __name__ == "__main__":
    sys.exit(main())
