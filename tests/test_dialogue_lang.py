"""Conversations in English, Arabic and "Français facile" (issue 14): the language is a
fact of the conversation, every text the dialogue sends comes from its catalog, French
is unchanged."""
from __future__ import annotations

import re

import pytest

from bot.i18n import LANGUAGES, read_catalog

EN_DANGER_FALSE = '/informer{"danger": false}'


def talk(dialogue, messages, sender="l1"):
    replies = []
    for m in messages:
        replies += dialogue.handle(sender, m)
    return replies


def texts(replies):
    return "\n".join(r.get("text", "") for r in replies)


def ids(replies):
    return [c["id"] for r in replies for c in r.get("custom", {}).get("contacts", [])]


def asks(replies):
    return [r["custom"]["asks"] for r in replies if "asks" in r.get("custom", {})]


def untranslated(lang: str) -> set[str]:
    """French sources of the dialogue that this language's catalog words differently:
    none of them may reach a person talking in that language."""
    catalog = read_catalog(lang)
    return {m.id for m in catalog if m.id and m.string and m.string != m.id and "{" not in m.id
            and not m.context and len(m.id) > 12}


def french_leftovers(replies, lang):
    """Lines (and button titles) of the replies that are French sources of `lang`'s catalog."""
    sources = untranslated(lang)
    lines = [line for r in replies for line in r.get("text", "").split("\n")]
    lines += [b["title"] for r in replies for b in r.get("buttons", [])]
    return [line for line in lines if line.rstrip(" :") in sources or line in sources]


def test_english_conversation_for_laon_gives_3919_and_the_local_network_in_english(dialogue):
    assert dialogue.understander.model_en is not None, "the English classifier is trained with the French one"
    first = dialogue.handle("en1", "hello, my husband hits me, I live in Laon")
    assert dialogue.store.get("en1").facts["lang"] == "en"
    assert dialogue.store.get("en1").sources["lang"] == "text"
    assert asks(first) == ["danger"]
    assert "are you safe" in texts(first).lower()
    plan = dialogue.handle("en1", EN_DANGER_FALSE)
    facts = dialogue.store.get("en1").facts
    assert facts["situation"] == "violences_conjugales" and facts["commune"] == "02408"
    got = ids(plan)
    assert "violences-femmes-info-3919" in got and "reseau-laon-chauny-la-fere" in got
    text = texts(plan)
    assert "Contact first:" in text and "What you can do:" in text and "(day and night)" in text
    assert french_leftovers(first + plan, "en") == []


def test_english_danger_and_distress_answer_at_once(dialogue):
    replies = dialogue.handle("en2", "please help, he has a knife and he is outside my door right now")
    assert replies[0]["custom"].get("emergency") is True
    assert {"police-secours-17", "numero-urgence-europeen-112"} <= set(ids(replies[:1]))
    assert "You are in danger" in replies[0]["text"]
    replies = dialogue.handle("en3", "I do not want to live anymore, I want to end my life")
    assert any(c["id"].startswith("suicide") or "3114" in c.get("phone", "") for c in
               [c for r in replies for c in r.get("custom", {}).get("contacts", [])])


def test_arabic_conversation_through_the_buttons_reaches_the_plan(dialogue):
    first = dialogue.handle("ar1", "مرحبا، زوجي يضربني كل يوم")
    session = dialogue.store.get("ar1")
    assert session.facts["lang"] == "ar"
    assert asks(first) == ["situation"]
    assert re.search(r"[\u0600-\u06FF]", first[0]["text"])
    buttons = first[0]["buttons"]
    assert all(re.search(r"[\u0600-\u06FF]", b["title"]) for b in buttons)
    couple = next(b["payload"] for b in buttons if "violences_conjugales" in b["payload"])
    replies = first + dialogue.handle("ar1", couple)
    safe = next(b for b in replies[-2]["buttons"] if "false" in b["payload"])
    replies += dialogue.handle("ar1", safe["payload"])
    replies += dialogue.handle("ar1", "Laon")  # a town name is language-neutral
    assert dialogue.store.get("ar1").facts["lang"] == "ar"
    role = next(b for b in replies[-1]["buttons"] if "victime" in b["payload"])
    replies += dialogue.handle("ar1", role["payload"])
    plan = [r for r in replies if r.get("custom", {}).get("plan")]
    assert plan, texts(replies)
    assert {"violences-femmes-info-3919", "reseau-laon-chauny-la-fere"} <= set(ids(plan))
    assert "اتصل بهؤلاء أولاً" in plan[0]["text"]
    assert french_leftovers(replies, "ar") == []


def test_arabic_danger_words_give_the_emergency_numbers_first(dialogue):
    replies = dialogue.handle("ar2", "ساعدوني زوجي يهددني بسكين الآن")
    assert replies[0]["custom"].get("emergency") is True
    assert dialogue.store.get("ar2").facts["lang"] == "ar"


def test_francais_facile_covers_the_whole_conversation(dialogue):
    replies = talk(dialogue, ['/langue{"lang": "fr_FALC"}', "mon mari me frappe", "oui", "Chauny", "à moi"], "falc")
    session = dialogue.store.get("falc")
    assert session.facts["lang"] == "fr_FALC"  # French messages keep "Français facile"
    assert session.recommended
    assert {"violences-femmes-info-3919", "reseau-laon-chauny-la-fere"} <= set(ids(replies))
    assert french_leftovers(replies, "fr_FALC") == []
    # and the questions of the other branches: a relative, age, commune choice
    replies = talk(dialogue, ['/langue{"lang": "fr_FALC"}', "ma fille a été agressée sexuellement",
                              EN_DANGER_FALSE, "Saint-Quentin", "/passer"], "falc2")
    assert french_leftovers(replies, "fr_FALC") == []


def test_language_can_change_at_any_time_and_facts_stay(dialogue):
    fr = dialogue.handle("sw", "mon mari me frappe")
    question = [r for r in fr if "asks" in r.get("custom", {})][-1]
    en = dialogue.handle("sw", '/langue{"lang": "en"}')
    session = dialogue.store.get("sw")
    assert session.facts["lang"] == "en" and session.sources["lang"] == "button"
    assert session.facts["situation"] == "violences_conjugales"
    # the same question again, in English
    assert asks(en) == [question["custom"]["asks"]] and en[0]["text"] != question["text"]
    assert french_leftovers(en, "en") == []
    back = dialogue.handle("sw", '/informer{"lang": "fr"}')
    assert back[0]["text"] == question["text"]
    # a plan already given is given again in the new language
    talk(dialogue, ["Chauny", '/informer{"role": "victime"}', EN_DANGER_FALSE], "sw")
    assert dialogue.store.get("sw").recommended
    again = dialogue.handle("sw", '/langue{"lang": "en"}')
    assert any(r.get("custom", {}).get("plan") for r in again) and "Contact first:" in texts(again)


def test_language_menu_command_and_other_languages(dialogue):
    menu = dialogue.handle("m1", "langue")
    assert [b["title"] for b in menu[0]["buttons"]] == [name for name, _ in LANGUAGES.values()]
    replies = dialogue.handle("m2", "Hola, mi marido me pega todos los días y tengo miedo")
    text = replies[0]["text"]
    assert text.startswith("Solo hablo") and "I only speak" in text and "Je parle seulement" in text
    assert {"police-secours-17", "numero-urgence-europeen-112", "urgence-sms-114"} <= set(ids(replies))
    assert len(replies[0]["buttons"]) == len(LANGUAGES)
    assert "lang" not in dialogue.store.get("m2").facts  # the conversation keeps its language


FRENCH = ["bonjour", "mon copain me frappe", "oui", "elle a quatorze ans", "Chauny", "à moi", "merci beaucoup"]


def test_french_conversation_is_unchanged(dialogue):
    plain = talk(dialogue, FRENCH, "fr1")
    assert "lang" not in dialogue.store.get("fr1").facts
    assert french_leftovers(plain, "fr_FALC") and french_leftovers(plain, "en")  # the check can fail
    dialogue.store.get("fr2").facts["lang"] = "fr"  # as the "Français" button sets it
    with_fr = talk(dialogue, FRENCH, "fr2")
    assert with_fr == plain  # byte for byte, with or without the French choice
    # the page's language ("fr") changes nothing either
    page = [r for m in FRENCH for r in dialogue.handle("fr3", m, lang="fr")]
    assert page == plain


def test_rest_channel_takes_lang_and_replies_carry_it(client):
    r = client.post("/webhooks/rest/webhook", json={"sender": "rest-ar", "message": "/aide", "lang": "ar"})
    assert r.status_code == 200
    body = r.json()
    assert body and all(m["custom"]["lang"] == "ar" for m in body)
    assert re.search(r"[\u0600-\u06FF]", body[0]["text"])
    r = client.post("/webhooks/rest/webhook", json={"sender": "rest-en", "message": "hello, my husband hits me in Laon"})
    assert all(m["custom"]["lang"] == "en" for m in r.json())
    r = client.post("/webhooks/rest/webhook", json={"sender": "rest-fr", "message": "mon mari me frappe"})
    assert all(m["custom"]["lang"] == "fr" for m in r.json())
    bad = client.post("/webhooks/rest/webhook", json={"sender": "x", "message": "bonjour", "lang": "xx"})
    assert bad.status_code == 422


def test_understand_api_takes_lang(client):
    r = client.post("/api/understand", json={"text": "my husband hits me every day", "lang": "en"})
    assert r.status_code == 200 and r.json()["situations"][0]["code"] == "violences_conjugales"
    assert client.post("/api/understand", json={"text": "x", "lang": "xx"}).status_code == 422


@pytest.mark.parametrize("lang,html_lang,direction", [("ar", "ar", "rtl"), ("en", "en", "ltr"),
                                                      ("fr_FALC", "fr", "ltr"), ("zz", "fr", "ltr")])
def test_page_language(client, lang, html_lang, direction):
    html = client.get(f"/?lang={lang}").text
    assert re.search(rf'<html lang="{html_lang}" dir="{direction}">', html)
    expected = lang if lang in LANGUAGES else "fr"
    assert f'data-lang="{expected}"' in html
    assert 'aria-current="page"' in html.split('class="languages"', 1)[1].split("</nav>", 1)[0]
    if lang == "ar":
        assert "الخروج بسرعة" in html  # "Quitter vite"


def test_english_heldout_through_the_understanding_layer(understander, orientation_cli, model_dir, db_path,
                                                        monkeypatch):
    """Issue 14's bar, as served: situation top-1 >= 0.85 and danger recall 1.0 on the
    English held-out set (never used for training), French danger rules included."""
    from bot.evaluate import evaluate
    from bot.nludata import read_heldout
    from directory import DATA_DIR
    from web.cli import _InLanguage

    figures = evaluate(_InLanguage(understander, "en"), read_heldout(DATA_DIR / "nlu_heldout_en.yml"))
    assert figures["top1_accuracy"] >= 0.85
    assert figures["danger_recall"] == 1.0 and figures["distress_recall"] == 1.0
    monkeypatch.setenv("ORIENTATION_MODEL", str(model_dir))
    out = orientation_cli("--db", db_path, "nlu", "evaluate", "--lang", "en")
    assert out.exit_code == 0 and "top-1 situation accuracy" in out.output


def test_short_answers_typed_in_english_and_arabic(dialogue):
    """"yes I'm safe", "I don't know", "نعم أنا بخير", "لا أعرف" answer the question asked
    (bot/reading_i18n.yml), as "oui", "je ne sais pas" do in French."""
    talk(dialogue, ["hello, my husband hits me", "yes I'm safe"], "ta1")
    session = dialogue.store.get("ta1")
    assert session.facts["danger"] is False and session.pending == "commune"
    replies = talk(dialogue, ["I don't know"], "ta1")
    assert "commune" in session.skipped and any(r.get("custom", {}).get("plan") for r in replies)
    replies = talk(dialogue, ["مرحبا، زوجي يضربني كل يوم", '/informer{"situation": "violences_conjugales"}',
                              "نعم أنا بخير", "Laon"], "ta2")
    session = dialogue.store.get("ta2")
    assert session.facts["danger"] is False and session.facts["commune"] == "02408"
    # the plan, then who it happens to (asked after the plan: the answer changes no contact)
    assert any(r.get("custom", {}).get("plan") for r in replies) and replies[-1]["custom"]["asks"] == "role"
    replies = talk(dialogue, ["لا أعرف"], "ta2")
    assert "role" in session.skipped and not any(r.get("custom", {}).get("asks") for r in replies)
    talk(dialogue, ["hello, my husband hits me", "no, I am not safe"], "ta3")
    assert dialogue.store.get("ta3").facts["danger"] is True


def test_failure_and_saturation_texts_are_in_the_catalogs():
    from bot.i18n import EXTRA, translator
    from web.api_chat import FAILED, SATURATED

    assert FAILED in EXTRA and SATURATED in EXTRA  # kept in step with web/api_chat.py
    assert re.search(r"[\u0600-\u06FF]", translator("ar").gettext(FAILED))
    assert translator("en").gettext(SATURATED).startswith("The service is overloaded")


def test_an_understander_without_languages_keeps_the_dialogue_french(directory, orienter, understander):
    """The Rasa profile's understander reads French only (`understand(text)`): no language
    is detected and nothing fails."""
    from bot.dialogue import Dialogue

    class FrenchOnly:
        def __init__(self, u):
            self.u, self.directory = u, u.directory

        def understand(self, text):
            return self.u.understand(text)

    d = Dialogue(directory, orienter, FrenchOnly(understander))
    replies = d.handle("fo", "hello, my husband hits me, I live in Laon")
    assert "lang" not in d.store.get("fo").facts
    assert not any(r.get("custom", {}).get("emergency") and "problème" in r["text"] for r in replies)
