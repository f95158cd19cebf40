"""Language detection (bot.lang): French stays French however it is written, English and
Arabic are recognised, short messages and button payloads are language-neutral."""
import pytest

from bot.lang import detect_language, is_arabic, normalize_ar
from bot.nludata import read_heldout

FRENCH = [
    "jsuis a st quentin mon mec ma frappe hier soir",
    "il me frape tt les jour jpp",
    "slt jsp si c normal mais mon copain m interdit de voir mes potes",
    "je sui en danjé il est devan la porte",
    "mon mari me tape dessus depuis des annees et j ose pas partir",
    "jai peur de rentrer ce soir il a encore bu",
    "ma fille de 14 ans se fait harceler sur snap",
    "on ma vole mon sac a la gare de laon",
    "Bonjour, ma grand-mère se fait arnaquer par un faux conseiller bancaire.",
    "cc jsp koi faire il me menace tt le tps",
]
ENGLISH = [
    "hello, my husband hits me, I live in Laon",
    "my boyfriend hit me yesterday and I am scared to go home",
    "im scared hes outside the door",
    "someone stole my bag at the train station",
    "my daughter is being bullied at school",
    "i think my neighbour is beating his kids, i hear screaming every night",
    "I was raped by a friend last year and I don't know who to talk to",
]
ARABIC = [
    "زوجي يضربني وأنا خائفة",
    "مرحبا، أحتاج إلى مساعدة",
    "هو أمام الباب ويريد قتلي",
    "نعم",
]
NEUTRAL = ["ok", "oui", "non", "Oui", "ok merci", "Laon", "ma soeur", "02000", "yes", "no", "hello",
           '/informer{"danger": false}', "/aide", "", "   ", None, "👍", "St Quentin"]


@pytest.mark.parametrize("text", FRENCH)
def test_messy_french_stays_french(text):
    assert detect_language(text) == "fr"


@pytest.mark.parametrize("text", ENGLISH)
def test_english(text):
    assert detect_language(text) == "en"


@pytest.mark.parametrize("text", ARABIC)
def test_arabic_script_is_arabic_even_short(text):
    assert detect_language(text) == "ar"


@pytest.mark.parametrize("text", NEUTRAL)
def test_short_messages_and_payloads_are_neutral(text):
    assert detect_language(text) is None


@pytest.mark.parametrize("text,lang", [
    ("mi marido me pega todos los días y tengo miedo", "es"),
    ("mein Mann schlägt mich und ich habe Angst", "de"),
    ("kocam beni dövüyor ve çok korkuyorum", "tr"),
])
def test_neighbour_languages_are_not_forced_into_french_or_english(text, lang):
    assert detect_language(text) == lang


def test_no_french_held_out_message_is_read_as_another_language():
    wrong = [m["text"] for m in read_heldout() if detect_language(m["text"]) not in ("fr", None)]
    assert wrong == []


def test_normalize_ar_folds_spelling_variants():
    # diacritics, tatweel, hamza on alef, alef maqsura, ta marbuta
    assert normalize_ar("أَنَا فـــي خَطَرٍ") == normalize_ar("انا في خطر") == "انا في خطر"
    assert normalize_ar("إلى") == "الي"
    assert normalize_ar("مساعدة!") == "مساعده"
    assert normalize_ar("٣ ساعات") == "3 ساعات"


def test_is_arabic_needs_mostly_arabic_letters():
    assert is_arabic("ساعدني please")
    assert not is_arabic("hello my friend ساعد")
    assert not is_arabic("ب")
