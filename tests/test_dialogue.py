"""The conversation: every path of the issue, safety promises, the REST channel."""
from __future__ import annotations

import re

import pytest


def texts(replies):
    return " ".join(r.get("text", "") for r in replies)


def contacts(replies):
    return [c for r in replies for c in r.get("custom", {}).get("contacts", [])]


def asks(replies):
    return [r["custom"]["asks"] for r in replies if "asks" in r.get("custom", {})]


def talk(dialogue, messages, sender="s1"):
    """Every reply of the conversation, in order."""
    replies = []
    for m in messages:
        replies += dialogue.handle(sender, m)
    return replies


def ids(replies):
    return [c["id"] for c in contacts(replies)]


SITUATION_PATHS = {
    "violences_conjugales": (["mon mari me frappe", "oui", "Chauny", "à moi"], ["violences-femmes-info-3919", "reseau-laon-chauny-la-fere"]),
    "violences_sexuelles": (["j'ai été violée par un collègue", "oui", "Soissons", "non"], ["violences-femmes-info-3919", "reseau-soissonnais"]),
    "violences_intrafamiliales": (["mon fils de 30 ans me frappe", "oui", "Hirson", "à moi"], ["violences-femmes-info-3919", "reseau-thierache"]),
    "enfant_en_danger": (["le voisin frappe ses enfants tous les soirs", "oui", "/informer{\"role\": \"proche\"}", "Laon"], ["allo-enfance-en-danger-119", "utas-laon"]),
    "maltraitance_vulnerable": (["ma grand-mère se fait voler par son aide à domicile", "/informer{\"role\": \"proche\"}", "Guise"], ["maltraitance-3977", "utas-guise"]),
    "harcelement": (["au collège ils se moquent de moi tous les jours sur snap", "oui", "Vervins"], ["harcelement-3018", "france-victimes-116006"]),
    "escroquerie": (["un faux conseiller bancaire m'a fait valider des paiements", "Laon"], ["info-escroqueries", "france-victimes-116006"]),
    "cambriolage_vol": (["on m'a cambriolé cette nuit", "non, ils sont partis", "Saint-Quentin"], ["france-victimes-116006", "operation-tranquillite-vacances"]),
    "agression": (["un inconnu m'a frappé à la sortie du bar", "oui", "Château-Thierry"], ["france-victimes-116006"]),
    "radicalisation": (["mon fils tient des propos extrémistes et veut partir faire le djihad"], ["radicalisation-cnapr"]),
    "autre": (["/informer{\"situation\": \"autre\"}", "Soissons"], ["france-victimes-116006"]),
}


@pytest.mark.parametrize("situation", sorted(SITUATION_PATHS))
def test_each_situation_reaches_a_recommendation(dialogue, situation):
    messages, expected = SITUATION_PATHS[situation]
    replies = talk(dialogue, messages)
    got = ids(replies)
    assert got, texts(replies)
    for sid in expected:
        assert sid in got, (sid, got, texts(replies))


def test_one_question_per_message(dialogue):
    for m in ["bonjour", "mon mari me frappe", "oui"]:
        replies = dialogue.handle("q", m)
        assert len(asks(replies)) <= 1


def test_few_questions_when_the_first_message_says_it_all(dialogue):
    replies = dialogue.handle("q", "je suis en sécurité chez ma soeur à Chauny, mon mari me frappait, c'est moi la victime")
    # situation, commune and role were given: only the safety question may remain
    assert asks(replies) in ([], ["danger"])


def test_danger_at_the_first_turn_answers_at_once(dialogue):
    replies = dialogue.handle("d", "il est devant la porte il va me tuer")
    first = replies[0]
    assert first["custom"]["emergency"] is True
    assert [c["id"] for c in first["custom"]["contacts"]][:3] == ["police-secours-17", "numero-urgence-europeen-112", "urgence-sms-114"]


def test_danger_at_a_later_turn(dialogue):
    talk(dialogue, ["bonjour", "mon ex me harcèle"], "d2")
    replies = dialogue.handle("d2", "au secours il défonce la porte")
    assert replies[0]["custom"].get("emergency") is True
    assert "police-secours-17" in ids(replies[:1])


def test_conversation_goes_on_after_danger(dialogue):
    replies = talk(dialogue, ["mon mari est en train de me frapper", "Chauny", "à moi"], "d3")
    got = ids(replies)
    assert got[0] in ("police-secours-17", "numero-urgence-europeen-112", "urgence-sms-114")
    assert "reseau-laon-chauny-la-fere" in got


@pytest.mark.parametrize("answer", ['/informer{"danger": true}', "non"])
def test_answering_not_safe_gives_the_emergency_numbers_at_once(dialogue, answer):
    talk(dialogue, ["mon conjoint m'insulte tous les jours"], "ns")
    replies = dialogue.handle("ns", answer)
    assert replies[0]["custom"].get("emergency") is True
    assert [c["id"] for c in replies[0]["custom"]["contacts"]][0] == "police-secours-17"


def test_deaf_person_in_danger_gets_114_first(dialogue):
    replies = dialogue.handle("d4", "je suis sourde et il me frappe en ce moment")
    assert replies[0]["custom"]["contacts"][0]["id"] == "urgence-sms-114"


def test_distress(dialogue):
    replies = dialogue.handle("x", "je veux mourir, je n'en peux plus")
    assert "prevention-suicide-3114" in ids(replies)


def test_correction_replaces_the_commune(dialogue):
    talk(dialogue, ["mon mari me frappe", "oui", "Soissons", "à moi"], "c")
    replies = dialogue.handle("c", "non, j'habite à Laon")
    got = ids(replies)
    assert "reseau-laon-chauny-la-fere" in got and "reseau-soissonnais" not in got


def test_skipped_questions_still_give_national_contacts(dialogue):
    replies = talk(dialogue, ["mon mari me frappe", "je préfère ne pas dire", "je ne sais pas", "passer"], "sk")
    got = ids(replies)
    assert "violences-femmes-info-3919" in got
    assert not [i for i in got if i.startswith("reseau-")]


def test_skipping_the_situation(dialogue):
    replies = talk(dialogue, ["bonjour", "je préfère ne pas dire", "je ne sais pas"], "sk2")
    assert "france-victimes-116006" in ids(replies)


def test_relative(dialogue):
    replies = talk(dialogue, ["ma soeur se fait frapper par son mari", "non", "Chauny"], "p")
    steps = " ".join(s for r in replies for s in r.get("custom", {}).get("next_steps", []))
    assert "violences-femmes-info-3919" in ids(replies)
    assert "proches" in steps or "témoins" in steps
    assert "proche" in texts(replies) or "proches" in texts(replies)


def test_minor(dialogue, directory):
    replies = talk(dialogue, ["j'ai 14 ans et mon père me tape", "oui", "Soissons"], "m")
    rest = [i for i in ids(replies[-3:]) if not directory.service(i).emergency]
    assert rest[0] == "allo-enfance-en-danger-119"


def test_ambiguous_commune_offers_choices(dialogue):
    replies = talk(dialogue, ["on m'a cambriolé", "non", "02640"], "amb")
    buttons = [b["title"] for r in replies for b in r.get("buttons", [])]
    assert any("Saint-Simon" in b for b in buttons)
    replies = dialogue.handle("amb", '/informer{"commune": "02694"}')
    assert ids(replies)


def test_out_of_area(dialogue):
    replies = talk(dialogue, ["on m'a cambriolé", "non", "j'habite à Reims"], "oa")
    assert "Aisne" in texts(replies) and "france-victimes-116006" in ids(replies)


def test_erase_forgets_everything(dialogue):
    talk(dialogue, ["mon mari me frappe", "oui", "Chauny"], "e")
    assert "e" in dialogue.store
    replies = dialogue.handle("e", "/effacer")
    assert "effacé" in texts(replies)
    assert "e" not in dialogue.store


def test_restart(dialogue):
    talk(dialogue, ["mon mari me frappe", "oui"], "r")
    replies = dialogue.handle("r", "/restart")
    assert asks(replies) == ["situation"]
    assert dialogue.store.get("r").facts == {}


def test_help(dialogue):
    replies = dialogue.handle("h", "aide")
    assert "effacer" in texts(replies)


def test_session_expires_after_30_minutes(dialogue):
    talk(dialogue, ["mon mari me frappe"], "t")
    dialogue.clock["now"] += 1801
    assert "t" not in dialogue.store
    assert dialogue.store.get("t").facts == {}


def test_sessions_are_bounded_and_a_live_one_is_never_evicted(dialogue):
    from bot.sessions import SessionsFull

    for i in range(50):
        dialogue.handle(f"b{i}", "bonjour")
    with pytest.raises(SessionsFull):  # the chat answers "service saturé" with the emergency numbers
        dialogue.handle("b50", "bonjour")
    assert len(dialogue.store) == 50 and "b0" in dialogue.store
    dialogue.clock["now"] += 1801  # idle for the timeout: forgotten, so there is room again
    dialogue.handle("b50", "bonjour")
    assert "b50" in dialogue.store and "b0" not in dialogue.store


def test_unknown_input(dialogue):
    replies = dialogue.handle("u", "blablabla xyz")
    assert asks(replies) == ["situation"]
    assert "buttons" in replies[-1]


def test_bad_messages(dialogue):
    assert "trop long" in texts(dialogue.handle("l", "a" * 2001))
    assert "texte" in texts(dialogue.handle("l", 42))
    assert texts(dialogue.handle("l", "   "))


def test_error_answers_with_emergency_contacts(dialogue, monkeypatch):
    monkeypatch.setattr(dialogue, "_apply", lambda *a: 1 / 0)
    replies = dialogue.handle("err", "mon voisin m'embête")
    assert ids(replies)[:3] == ["police-secours-17", "numero-urgence-europeen-112", "urgence-sms-114"]


def test_every_number_said_comes_from_the_directory(dialogue, directory):
    known = {p.number for s in directory.snapshot.services.values() for p in s.phones}
    known |= {p.display.replace(" ", "") for s in directory.snapshot.services.values() for p in s.phones}
    urls = {s.url for s in directory.snapshot.services.values() if s.url}
    for situation, (messages, _) in SITUATION_PATHS.items():
        for i, m in enumerate(messages + ["il est devant la porte il va me tuer", "je veux mourir"]):
            for r in dialogue.handle(f"num-{situation}", m):
                text = r.get("text", "") + " " + " ".join(b["title"] for b in r.get("buttons", []))
                for url in re.findall(r"https?://[^\s)]+", text):
                    assert url.rstrip(".,") in urls, url  # URLs come from the directory too
                text = re.sub(r"https?://[^\s)]+", " ", text)
                for number in re.findall(r"\d[\d ]*\d|\d", text):
                    compact = number.replace(" ", "")
                    assert compact in known, (number, text)


def test_dialogue_file_holds_no_digits():
    from bot.dialogue import SPEC_FILE

    assert not re.search(r"\d", SPEC_FILE.read_text(encoding="utf-8"))


# -- the REST channel --------------------------------------------------------------------
def test_webhook_contract(client):
    from conftest import contract

    v = contract("webhook")
    for m in ["bonjour", "ma voisine âgée se fait maltraiter par son fils", "non", "Soissons", "/effacer"]:
        r = client.post("/webhooks/rest/webhook", json={"sender": "contract", "message": m})
        assert r.status_code == 200
        assert list(v.iter_errors(r.json())) == []
        assert all(x["recipient_id"] == "contract" for x in r.json())


@pytest.mark.parametrize("body,status", [
    ({"sender": "x", "message": "a" * 2001}, 413), ({"sender": "x", "message": 42}, 422),
    ({"sender": "x", "message": None}, 422), ({"sender": "", "message": "bonjour"}, 422), ({"message": "bonjour"}, 422),
    ([1, 2], 422),
])
def test_webhook_bad_input(client, body, status):
    r = client.post("/webhooks/rest/webhook", json=body)
    assert r.status_code == status and r.json()["detail"]


def test_webhook_binary_body(client):
    r = client.post("/webhooks/rest/webhook", content=b"\x00\xff\xfe binary", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_webhook_huge_body(client):
    r = client.post("/webhooks/rest/webhook", content=b"{" + b" " * 20000 + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_rasa_back_end_unreachable_answers_with_emergency_contacts(db_path, model_dir):
    """With ORIENTATION_CHAT_BACKEND=rasa and no Rasa server, the page still gets 17/112/114."""
    from fastapi.testclient import TestClient

    from conftest import free_port
    from web.app import create_app
    from web.settings import Settings

    settings = Settings.from_env(db=db_path, model_dir=model_dir, chat_backend="rasa",
                                 rasa_url=f"http://127.0.0.1:{free_port()}")
    with TestClient(create_app(settings)) as c:
        r = c.post("/webhooks/rest/webhook", json={"sender": "r", "message": "bonjour"})
    assert r.status_code == 200
    assert [x["id"] for x in r.json()[0]["custom"]["contacts"]][:3] == [
        "police-secours-17", "numero-urgence-europeen-112", "urgence-sms-114"]
