"""A person who says they are violent (role `auteur`), and questions whose answer changes no
contact (bot/dialogue.yml `after_plan`): the plan first, the question after it."""
from __future__ import annotations

import shutil
import textwrap

import pytest

from bot.profile import extract_profile
from conftest import asks, talk, texts
from rules import RULES_DIR, Orienter, Request


def plan_ids(replies):
    plans = [r for r in replies if r.get("custom", {}).get("plan")]
    return [c["id"] for c in plans[-1]["custom"]["contacts"]] if plans else []


# -- who is the author ------------------------------------------------------------------------
@pytest.mark.parametrize("text", [
    "je crois que je suis violent avec ma femme, hier je l'ai poussée",
    "j'ai giflé ma copine pendant une dispute, j'ai honte",
    "je m'énerve sur mes enfants, j'ai peur de les frapper, aidez-moi",
    "je veux arrêter de la frapper",
    "j'ai levé la main sur ma compagne",
    "je pense que je deviens violente avec mon mari",
])
def test_a_writer_who_says_they_are_violent_is_the_author(text):
    assert extract_profile(text).role == "auteur"


@pytest.mark.parametrize("text", [
    "il m'a frappée et je l'ai poussé pour me défendre",
    "on s'est battus, je l'ai poussé pour me défendre",
    "il dit à tout le monde que c'est moi qui suis violente",
    "ma voisine raconte à tout le quartier que je bats mes enfants",
    "mon mari est violent",
    "je suis violentée par mon conjoint",
    "je frappe à la porte de ma voisine",
])
def test_a_victim_is_never_taken_for_the_author(text):
    assert extract_profile(text).role != "auteur"


# -- the rules: an exclusive role ---------------------------------------------------------------
def test_an_author_gets_only_services_listing_that_role(orienter, directory):
    result = orienter.orient(Request(situation="violences_conjugales", commune="02408", role="auteur"))
    ids = [c["id"] for c in result.contacts]
    assert ids[0] == "ecoute-auteurs-violences"
    services = directory.snapshot.services
    assert all("auteur" in services[i].roles for i in ids + [c["id"] for c in result.if_danger])
    victim = orienter.orient(Request(situation="violences_conjugales", commune="02408", role="victime"))
    assert "ecoute-auteurs-violences" not in [c["id"] for c in victim.contacts]
    assert "violences-femmes-info-3919" in [c["id"] for c in victim.contacts]


def test_an_author_in_danger_still_gets_the_emergency_numbers(orienter):
    result = orienter.orient(Request(situation="violences_conjugales", role="auteur", danger=True))
    ids = [c["id"] for c in result.contacts + result.if_danger]
    assert ids[0] == "police-secours-17" and "urgence-sms-114" in ids


def test_api_orientation_accepts_the_author_role(client):
    r = client.post("/api/orientation", json={"situation": "violences_conjugales", "role": "auteur"})
    assert r.status_code == 200
    assert [c["id"] for c in r.json()["contacts"]][0] == "ecoute-auteurs-violences"


def test_api_understand_keeps_the_contract_roles(client):
    body = client.post("/api/understand", json={"text": "j'ai frappé ma femme hier, je veux arrêter"}).json()
    assert body["role"] is None and body["author"] is True
    body = client.post("/api/understand", json={"text": "mon mari me frappe"}).json()
    assert body["role"] == "victime" and body["author"] is False


# -- the conversation with an author --------------------------------------------------------
def test_an_author_is_asked_whether_someone_may_be_hurt_and_given_no_victim_advice(dialogue):
    replies = talk(dialogue, ["j'ai poussé ma femme contre le mur hier soir, je ne veux plus recommencer"], "a1")
    assert asks(replies) == ["danger"]
    assert "quelqu'un risque d'être blessé" in texts(replies) and "êtes-vous en sécurité" not in texts(replies)
    replies = talk(dialogue, ["non personne, elle est chez sa soeur"], "a1")
    assert "commune" not in asks(replies)  # no local service receives authors: not asked
    assert plan_ids(replies) == ["ecoute-auteurs-violences"]
    said = texts(replies)
    assert "n'y êtes pour rien" not in said and "Gardez des preuves" not in said
    assert "la violence peut s'arrêter" in said


@pytest.mark.parametrize("messages", [["je suis violent, je vais la tuer"],
                                      ["je suis violent, là j'ai envie de la tuer", "oui"]])
def test_an_author_in_danger_is_told_to_move_away_not_that_he_is_in_danger(dialogue, messages):
    replies = talk(dialogue, messages, "a2")
    alarm = [r for r in replies if r.get("custom", {}).get("emergency")]
    assert alarm and alarm[0]["text"].startswith("Si quelqu'un risque d'être blessé")
    assert [c["id"] for c in alarm[0]["custom"]["contacts"]][0] == "police-secours-17"
    assert "Vous êtes en danger" not in texts(replies)


# -- questions after the plan -----------------------------------------------------------------
def test_who_it_happens_to_is_asked_after_the_plan_and_adapts_the_advice(dialogue):
    replies = talk(dialogue, ["mari", "frappe", "oui", "Laon"], "l1")
    assert plan_ids(replies)[:2] == ["violences-femmes-info-3919", "reseau-laon-chauny-la-fere"]
    assert replies[-1]["custom"]["asks"] == "role"  # after the plan, not before
    assert "n'y êtes pour rien" not in texts(replies)  # not known yet: no advice for one role only
    replies = talk(dialogue, ["c'est ma soeur"], "l1")
    assert plan_ids(replies)[:2] == ["violences-femmes-info-3919", "reseau-laon-chauny-la-fere"]
    assert "Écoutez sans juger" in texts(replies) and not asks(replies)


def test_the_question_after_the_plan_is_never_insisted_on(dialogue):
    talk(dialogue, ["mari", "frappe", "oui", "Laon"], "l2")
    for message in ["merci", "oui", "ok"]:
        replies = talk(dialogue, [message], "l2")
        assert not asks(replies) and not plan_ids(replies)


def test_the_question_comes_before_the_plan_when_the_answer_changes_the_contacts(directory, understander,
                                                                                tmp_path):
    """A rules set where relatives get another line: then who it happens to is asked first."""
    from bot.dialogue import Dialogue

    rules = tmp_path / "rules"
    rules.mkdir()
    for f in RULES_DIR.glob("*.rules.yml"):
        shutil.copy(f, rules / f.name)
    (rules / "zz-test.rules.yml").write_text(textwrap.dedent("""\
        rules:
          - id: test-relatives-other-line
            priority: 5
            when:
              situation: [violences_conjugales]
              role: [proche]
            then:
              - service: maltraitance-3977
                why: "Une raison."
        """), encoding="utf-8")
    dialogue = Dialogue(directory, Orienter(directory, rules), understander)
    replies = talk(dialogue, ["mari", "frappe", "oui", "Laon"], "l3")
    assert replies[-1]["custom"]["asks"] == "role" and not plan_ids(replies)
