"""Facts with provenance across turns: what a later message may change, and what it may not."""
from __future__ import annotations

import pytest

from bot.sessions import Session
from bot.understand import Understanding
from conftest import asks, talk, texts


def facts(dialogue, sender):
    return dialogue.store.get(sender).facts


def sources(dialogue, sender):
    return dialogue.store.get(sender).sources


def ids(replies):
    return [c["id"] for r in replies for c in r.get("custom", {}).get("contacts", [])]


@pytest.mark.parametrize("skip", ["je sais pas", "je préfère ne pas le dire", "jsp", "je prefere pas dire",
                                  "j'ai pas envie de le dire", "peu importe"])
def test_skip_phrases_never_replace_the_situation(dialogue, skip):
    sender = f"skip-{skip}"
    talk(dialogue, ["mon mari me frappe et me menace", "oui"], sender)
    before = facts(dialogue, sender)["situation"]
    replies = dialogue.handle(sender, skip)
    assert facts(dialogue, sender)["situation"] == before == "violences_conjugales"
    assert "commune" in dialogue.store.get(sender).skipped
    # the national line for the situation is still given, and local help offered again later
    assert "violences-femmes-info-3919" in ids(replies)
    assert "commune quand vous voulez" in texts(replies)


def test_a_commune_given_after_skipping_brings_local_help(dialogue):
    sender = "later-commune"
    talk(dialogue, ["mon mari me frappe et me menace", "oui", "je préfère ne pas le dire"], sender)
    replies = dialogue.handle(sender, "Hirson")
    assert facts(dialogue, sender)["commune"] == "02381"
    assert "reseau-thierache" in ids(replies)


@pytest.mark.parametrize("answer, danger", [("oui là il dort", False), ("ouii", False), ("oui oui ça va", False),
                                            ("non", True), ("nan pas vraiment", True),
                                            ("non, là je suis en sécurité", False), ("je suis pas en sécurité", True),
                                            # a "non" then words that say she is safe: he is away, she is elsewhere
                                            ("non il est parti", False), ("non ça va il est au travail", False),
                                            ("non je suis chez une copine", False), ("non il n'est plus là", False),
                                            ("non ça va pas du tout", True), ("non je suis chez moi", True)])
def test_yes_no_with_extra_words_answer_the_safety_question(dialogue, answer, danger):
    sender = f"yn-{answer}"
    first = dialogue.handle(sender, "mon copain m'insulte et me rabaisse tout le temps")
    assert asks(first) == ["danger"]
    replies = dialogue.handle(sender, answer)
    assert facts(dialogue, sender)["danger"] is danger
    assert sources(dialogue, sender)["danger"] == "answer"
    assert facts(dialogue, sender)["situation"] == "violences_conjugales"
    assert asks(replies) != ["danger"]  # not asked again
    assert any((r.get("custom") or {}).get("emergency") for r in replies) is danger


def test_no_to_the_age_question_with_a_past_age(dialogue):
    sender = "age"
    talk(dialogue, ["il y a des années un homme m'a violée", "oui", "Laon"], sender)
    assert dialogue.store.get(sender).pending == "age_group"
    replies = dialogue.handle(sender, "non, j'avais 19 ans")
    assert facts(dialogue, sender)["age_group"] == "adulte"
    assert "age_group" not in asks(replies)
    assert facts(dialogue, sender)["situation"] == "violences_sexuelles"


def test_autre_never_replaces_a_specific_situation(dialogue):
    sender = "autre"
    talk(dialogue, ["mon fils de 30 ans me frappe"], sender)
    assert facts(dialogue, sender)["situation"] == "violences_intrafamiliales"
    dialogue.handle(sender, "bon ben voila quoi c'est comme ça la vie")
    assert facts(dialogue, sender)["situation"] == "violences_intrafamiliales"


def test_a_button_choice_is_kept_until_an_explicit_correction(dialogue):
    sender = "button"
    dialogue.handle(sender, '/informer{"situation": "harcelement"}')
    dialogue.handle(sender, "il m'envoie des messages la nuit et il m'a poussée une fois")
    assert facts(dialogue, sender)["situation"] == "harcelement"
    assert sources(dialogue, sender)["situation"] == "button"


def test_an_explicit_correction_changes_the_situation(dialogue):
    sender = "correct"
    dialogue.handle(sender, "on m'a volé mon téléphone dans le bus")
    assert facts(dialogue, sender)["situation"] == "cambriolage_vol"
    dialogue.handle(sender, "en fait c'est mon mari qui me frappe")
    assert facts(dialogue, sender)["situation"] == "violences_conjugales"


def test_the_person_concerned_is_not_the_writer(dialogue):
    sender = "sister"
    replies = dialogue.handle(sender, "ma sœur se fait taper dessus par son mari, elle a peur")
    f = facts(dialogue, sender)
    assert f["role"] == "proche" and f["concerned"] == "soeur"
    asked = [r["text"] for r in replies if r.get("custom", {}).get("asks")]
    if "danger" in asks(replies):
        assert any(t.startswith("Votre sœur est-elle en sécurité") for t in asked)
    replies = talk(dialogue, ["oui", "Soissons"], sender)
    assert "Vous n'y êtes pour rien" not in texts(replies)
    assert "proches" in texts(replies)


def test_en_fait_c_est_moi_keeps_the_situation_and_the_place(dialogue):
    sender = "its-me"
    talk(dialogue, ["ma sœur se fait frapper par son mari à Chauny"], sender)
    before = dict(facts(dialogue, sender))
    dialogue.handle(sender, "en fait c'est moi")
    f = facts(dialogue, sender)
    assert f["role"] == "victime" and "concerned" not in f
    assert f["situation"] == before["situation"] and f["commune"] == before["commune"] == "02173"


def test_a_professional_is_pointed_to_the_referral_search(dialogue):
    sender = "pro"
    replies = talk(dialogue, ["je suis assistante sociale, je cherche où orienter une femme victime de violences conjugales",
                              "Laon"], sender)
    assert facts(dialogue, sender)["role"] == "professionnel"
    assert "danger" not in asks(replies)
    assert "/pro" in texts(replies)
    assert "Vous n'y êtes pour rien" not in texts(replies)


def test_possible_danger_is_asked_never_declared(dialogue):
    """Violence that goes on: the safety question at once, with the numbers under it."""
    sender = "possible"
    session = dialogue.store.get(sender)
    u = Understanding(situations=[("violences_conjugales", 0.9)], role="victime")
    u.danger_level = "possible"
    result = dialogue.absorb(session, "(texte)", understanding=u)
    assert result.asked_now
    assert [m["custom"].get("asks") for m in result.alerts][0] == "danger"
    numbers = result.alerts[1]["custom"]["contacts"]
    assert [c["id"] for c in numbers][:1] == ["police-secours-17"]
    said = texts(result.alerts)
    assert "Vous êtes en danger" not in said and "danger maintenant" not in said
    assert session.facts.get("danger") is None


def test_a_question_unanswered_twice_is_not_asked_a_third_time(dialogue):
    sender = "insist"
    assert asks(dialogue.handle(sender, "mon mari me frappe depuis des années")) == ["danger"]
    assert asks(dialogue.handle(sender, "il boit beaucoup")) == ["danger"]
    third = dialogue.handle(sender, "il travaille de nuit")
    assert asks(third) == ["commune"]
    assert "danger" in dialogue.store.get(sender).skipped
    fourth = dialogue.handle(sender, "il a des amis bizarres")
    assert "Je ne trouve pas cette commune" not in texts(fourth)  # not a place: asked plainly


def test_an_aisne_commune_clears_out_of_area(dialogue):
    sender = "oa"
    talk(dialogue, ["mon mari me frappe", "oui", "j'habite à Reims"], sender)
    assert facts(dialogue, sender).get("out_of_area") is True
    replies = dialogue.handle(sender, "enfin j'habite à Laon maintenant")
    assert facts(dialogue, sender)["commune"] == "02408"
    assert "out_of_area" not in facts(dialogue, sender)
    assert "Je connais surtout les services de l'Aisne" not in texts(replies)


def test_none_of_these_communes_does_not_show_the_list_again(dialogue):
    sender = "none"
    talk(dialogue, ["on m'a cambriolé", "non ils sont partis"], sender)
    replies = dialogue.handle(sender, "02640")
    assert any(b["payload"] == "/passer" for r in replies for b in r.get("buttons", []))
    replies = dialogue.handle(sender, "/passer")
    assert not any("Saint-Simon" in b["title"] for r in replies for b in r.get("buttons", []))
    assert ids(replies)  # the plan, with the national contacts


def test_burglary_asks_whether_the_burglars_may_be_there(dialogue):
    sender = "burglary"
    replies = dialogue.handle(sender, "je rentre et la porte est fracturée, on m'a cambriolé")
    assert asks(replies) == ["danger"]
    assert "cambrioleurs" in texts(replies)
    replies = dialogue.handle(sender, "oui peut-être")
    assert facts(dialogue, sender)["danger"] is True
    assert ids(replies)[:1] == ["police-secours-17"]


def test_a_man_is_recorded_as_such(dialogue):
    sender = "man"
    dialogue.handle(sender, "je suis un homme et ma femme me frappe")
    assert facts(dialogue, sender)["gender"] == "homme"


def test_cannot_phone_is_a_profile(dialogue):
    sender = "quiet"
    dialogue.handle(sender, "mon mari me frappe, je peux pas appeler il va m'entendre")
    assert "sourd" in facts(dialogue, sender)["profile"]


def test_session_state_round_trips_without_any_text(dialogue):
    sender = "state"
    talk(dialogue, ["ma sœur se fait frapper par son mari", "Chauny"], sender)
    session = dialogue.store.get(sender)
    again = Session.from_dict(session.to_dict())
    assert again.facts == session.facts and again.sources == session.sources
    assert "frapper" not in str(session.to_dict())


def test_a_refinement_into_couple_violence_needs_a_partner_in_the_story(dialogue):
    """A neighbour first, then the blow: an assault, not couple violence; a partner named
    later in the story does make it couple violence."""
    sender = "neighbour"
    talk(dialogue, ["j'ai un gros problème avec mon voisin",
                    "il m'a frappée devant chez moi la semaine dernière, il m'a cassé le nez"], sender)
    assert facts(dialogue, sender)["situation"] == "agression"
    sender = "partner"
    talk(dialogue, ["j'ai un gros problème à la maison avec mon mari",
                    "il m'a frappée devant chez moi la semaine dernière, il m'a cassé le nez"], sender)
    assert facts(dialogue, sender)["situation"] == "violences_conjugales"


def test_a_je_in_a_hesitation_does_not_make_the_writer_the_victim(dialogue):
    sender = "hesitant-relative"
    talk(dialogue, ["bonjour", "euh je sais pas par où commencer"], sender)
    replies = dialogue.handle(sender, "c'est pour ma soeur, son mari la frappe")
    assert facts(dialogue, sender)["role"] == "proche" and facts(dialogue, sender)["concerned"] == "soeur"
    assert any(r["text"].startswith("Votre sœur est-elle en sécurité") for r in replies if "asks" in r.get("custom", {}))
