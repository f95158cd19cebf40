"""Message catalogs (bot.i18n): every text of the dialogue is translated in English,
Arabic and easy-to-read French, with its placeholders, and the catalogs load."""
import re

import pytest
from babel.messages.pofile import read_po

from bot.i18n import (LANGUAGES, POT, check, direction, extract, messages, read_catalog,
                      translator)
from bot.lang import detect_language, is_arabic

TRANSLATED = [lang for lang in LANGUAGES if lang != "fr"]


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalog_has_every_message_and_placeholder(lang):
    assert check(lang) == []


def test_template_is_current():
    with POT.open("rb") as f:
        pot = read_po(f)
    missing = [(c, t) for c, t, _ in messages() if pot.get(t, context=c) is None]
    assert missing == [], "run: python -m bot.i18n extract"


# A dialogue with the placeholders and relatives the conversation uses.
DIALOGUE = """
facts:
  danger:
    question: "Avant tout : êtes-vous en sécurité en ce moment ?"
    question_other: "{who} est-{pron} en sécurité en ce moment ?"
  age_group:
    question_other: "{who} a-t-{pron} moins de dix-huit ans ?"
    buttons:
      - {title: "Arnaque", payload: x}
      - {title: "Autre chose", payload: y}
      - {title: "Agression", payload: z}
relatives:
  soeur: [sœur, elle]
  petite: [petite, elle, La petite]
"""


@pytest.fixture
def dialogue(tmp_path):
    path = tmp_path / "dialogue.yml"
    path.write_text(DIALOGUE, encoding="utf-8")
    return path


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_and_relatives_are_translated(lang, dialogue):
    assert check(lang, dialogue) == []


def test_check_reports_a_missing_message_and_a_lost_placeholder(dialogue):
    catalog = read_catalog("en")
    question = "{who} a-t-{pron} moins de dix-huit ans ?"
    catalog[question].string = "Is your relative under eighteen?"  # {who} lost
    catalog.delete("Arnaque")
    catalog["Autre chose"].string = "Something {else}"  # invented
    catalog["Agression"].flags.add("fuzzy")
    problems = "\n".join(check("en", dialogue, catalog=catalog))
    assert "loses ['who']" in problems and "'Arnaque'" in problems
    assert "invents ['else']" in problems and "(fuzzy)" in problems
    # {pron} is French grammar only: leaving it out is not a problem
    assert "pron" not in problems


def test_translator_translates_with_context_and_falls_back_to_french():
    en, ar = translator("en"), translator("ar")
    who = en.pgettext("who", "Votre sœur")
    assert en.gettext("{who} est-{pron} en sécurité en ce moment ?").format(who=who, pron="she") \
        == "Is your sister safe right now?"
    assert is_arabic(ar.gettext("Avant tout : êtes-vous en sécurité en ce moment ?"))
    assert translator("fr").gettext("Arnaque") == "Arnaque"
    assert translator("de").gettext("Arnaque") == "Arnaque"  # no catalog: French
    assert en.gettext("a text that is not in the catalog") == "a text that is not in the catalog"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_no_digits_in_translations(lang):
    # every phone number comes from the directory, never from a text: a translation has
    # no digits but those of its source (the page's "3 fois sur la touche Maj", "24h/24")
    assert [m.id for m in read_catalog(lang) if m.id and
            set(re.findall(r"\d+", m.string)) - set(re.findall(r"\d+", m.id))] == []


def test_translations_are_in_their_language():
    en, ar = read_catalog("en"), read_catalog("ar")
    long_en = [m for m in en if m.id and not m.context and len(m.string.split()) >= 8]
    assert long_en and all(detect_language(m.string) == "en" for m in long_en)
    assert all(is_arabic(m.string) for m in ar if m.id)
    assert all(m.string != m.id for m in en if m.id and len(m.id) > 12)


def test_easy_french_has_short_sentences():
    # easy-to-read rules: one idea per sentence, short sentences
    falc = read_catalog("fr_FALC")
    sentences = [s for m in falc if m.id for s in re.split(r"(?<=[.?!:])\s+", m.string) if s]
    lengths = [len(s.split()) for s in sentences]
    source = [len(s.split()) for m in falc if m.id for s in re.split(r"(?<=[.?!:])\s+", m.id) if s]
    assert max(lengths) <= 16
    assert sum(lengths) / len(lengths) < sum(source) / len(source)


def test_direction():
    assert direction("ar") == "rtl" and direction("en") == direction("fr_FALC") == direction(None) == "ltr"


def test_extract_builds_a_catalog_of_the_dialogue(dialogue):
    catalog = extract(dialogue)
    assert catalog.get("Votre sœur", context="who") is not None
    assert catalog.get("La petite", context="who") is not None
    assert catalog.get("{who} a-t-{pron} moins de dix-huit ans ?") is not None
    assert len([m for m in catalog if m.id]) == len({(c, t) for c, t, _ in messages(dialogue)})


def test_other_languages_get_a_notice_in_their_language_then_english_and_french():
    from bot.i18n import _other, other_language_notice
    from bot.lang import CANDIDATES, SUPPORTED

    texts = _other()["texts"]
    for lang in CANDIDATES:
        if lang not in SUPPORTED:
            notice = other_language_notice(lang)
            assert len(notice) == 3 and notice[0] == texts[lang]
            assert detect_language(notice[0]) == lang  # the text is in the language it claims
    assert other_language_notice("xx") == [texts["en"], _other()["source"]]
    assert not any(re.search(r"\d", t) for t in [*texts.values(), _other()["source"]])
