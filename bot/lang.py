"""Language of a free-text message, and normalisation of Arabic text.

`detect_language(text)` answers the language a person writes in, or None when the
message says nothing about it (a button payload, "ok", "oui", a town name): the
conversation then keeps the language it had. Arabic script is recognised by its Unicode
range before any model runs; other messages go to py3langid (an offline n-gram model)
restricted to the languages we answer in plus a few neighbours, so that a Spanish or
Turkish message is recognised as such instead of being forced into French or English.

French is the language of the service: another language must be clearly more probable
to be chosen (else None: the conversation keeps its language), and messy French (SMS
spellings, no accents, typos) stays French (all 319 held-out French messages: "fr" or None).

`normalize_ar(text)` folds the spelling variants of Arabic (diacritics, tatweel, alef
forms, alef maqsura, ta marbuta) so that reviewed keyword lists match what people type.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["SUPPORTED", "CANDIDATES", "detect_language", "normalize_ar", "is_arabic"]

# Languages the service answers in ("fr_FALC" is chosen by the person, never detected).
SUPPORTED = ("fr", "en", "ar")
# Languages the detector may answer: ours plus neighbours that people in France write
# and that would otherwise be mistaken for French or English.
CANDIDATES = ("fr", "en", "ar", "es", "de", "it", "pt", "nl", "tr", "ro", "pl")

# Below these sizes a message is language-neutral ("ok", "oui", "Laon", "ma soeur").
MIN_WORDS = 3
MIN_LETTERS = 12
# A language other than French must be this probable (over the candidates) to be chosen;
# below it, a message that reads as French most of all stays French, otherwise None.
MIN_CONFIDENCE = 0.80
MIN_CONFIDENCE_FR = 0.50

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")
_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_WORD = re.compile(r"[^\W\d_]{2,}", re.UNICODE)

# Arabic folding: harakat, Quranic marks, tatweel out; alef forms, alef maqsura, ta marbuta unified.
_AR_MARKS = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")
_AR_MAP = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا",
    "ى": "ي", "ئ": "ي", "ؤ": "و",
    "ة": "ه",
    "گ": "ك", "ک": "ك", "ی": "ي",
    "٠": "0", "١": "1", "٢": "2", "٣": "3", "٤": "4", "٥": "5", "٦": "6", "٧": "7", "٨": "8", "٩": "9",
})
_AR_PUNCT = re.compile(r"[^\w\s]|_", re.UNICODE)
_SPACES = re.compile(r"\s+")


def is_arabic(text: str) -> bool:
    """Most letters of the text are Arabic script (at least two of them)."""
    letters = _LETTER.findall(text or "")
    arabic = sum(1 for c in letters if _ARABIC.match(c))
    return arabic >= 2 and arabic * 2 >= len(letters)


def normalize_ar(text: str) -> str:
    """Arabic text folded for matching: no diacritics or tatweel, one alef, ya for alef
    maqsura, ha for ta marbuta, punctuation as spaces, Latin letters lower case."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _AR_MARKS.sub("", text).translate(_AR_MAP)
    text = _AR_PUNCT.sub(" ", text.lower())
    return _SPACES.sub(" ", text).strip()


@lru_cache(maxsize=1)
def _identifier():
    # Imported here: the model (a few MB) loads on the first free-text message, once.
    from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

    full = LanguageIdentifier.from_modelpath(MODEL_DIR / MODEL_FILE, norm_probs=True)
    full.set_languages(list(CANDIDATES))
    # A new identifier over the restricted arrays only: the 97-language matrix (28 MB) is
    # freed instead of staying referenced for a later set_languages we never make.
    return LanguageIdentifier(full.nb_ptc, full.nb_pc, full.nb_classes, full.tk_nextmove, full.tk_output,
                              norm_probs=True, tk_row=full.tk_row)


def detect_language(text: str | None) -> str | None:
    """ISO 639-1 code of the message's language ("fr", "en", "ar" or another code of
    CANDIDATES), or None when the message is too short or a button payload."""
    if not text:
        return None
    text = text.strip()
    if not text or text.startswith("/"):  # button payloads and commands are language-neutral
        return None
    if is_arabic(text):
        return "ar"
    words = _WORD.findall(text)
    if len(words) < MIN_WORDS or sum(len(w) for w in words) < MIN_LETTERS:
        return None
    lang, prob = _identifier().classify(text)
    if lang == "fr":
        return "fr" if prob >= MIN_CONFIDENCE_FR else None
    if prob >= MIN_CONFIDENCE:
        # n-grams can take a short French sentence for Italian or English ("elle a quatorze
        # ans": it 0.84): its grammatical words decide. More French ones: French; as many: unknown.
        fr, other = _stop_share(words, "fr"), _stop_share(words, lang)
        if fr > other:
            return "fr"
        return lang if other > fr or fr == 0 else None
    return None


@lru_cache(maxsize=None)
def _stop_words(lang: str) -> frozenset[str]:
    """spaCy's stop-word list of a language (empty when it has none)."""
    import importlib

    try:
        return frozenset(importlib.import_module(f"spacy.lang.{lang}.stop_words").STOP_WORDS)
    except (ImportError, AttributeError):
        return frozenset()


def _stop_share(words: list[str], lang: str) -> float:
    stop = _stop_words(lang)
    return sum(w.lower() in stop for w in words) / len(words)
