"""Normalisation of what people type: case, accents, SMS spellings, elisions.

The output is folded (lower case, no accents), apostrophes and punctuation become
spaces, and common SMS spellings are rewritten to their standard words, so that
rules and the classifier see "je suis a saint quentin mon mec m a frappe" whether
the person wrote "jsuis a st quentin mon mec ma frappé" or the full sentence.
"""
from __future__ import annotations

import re
from functools import lru_cache

from directory.text import fold

__all__ = ["normalize", "clauses", "tokens", "SMS"]

# token -> replacement (several words allowed). Only unambiguous spellings.
SMS = {
    "jsuis": "je suis", "jsui": "je suis", "chuis": "je suis", "chui": "je suis", "jsu": "je suis",
    "suis": "suis", "jss": "je suis", "jsp": "je sais pas", "chais": "je sais", "jsais": "je sais",
    "jveux": "je veux", "jvais": "je vais", "jvai": "je vais", "jai": "j ai", "g": "j ai", "jme": "je me",
    "jle": "je le", "jla": "je la", "jten": "je t en", "jpeux": "je peux", "jpe": "je peux", "jpx": "je peux",
    "jsais": "je sais", "jcrois": "je crois", "jpense": "je pense", "jhabite": "j habite", "jtrouve": "je trouve",
    "ma": "ma", "mas": "m as", "ta": "ta", "mon": "mon", "mn": "mon", "m1": "moi",
    "pk": "pourquoi", "pq": "pourquoi", "pcq": "parce que", "pck": "parce que", "psk": "parce que",
    "tkt": "t inquiete", "stp": "s il te plait", "svp": "s il vous plait", "slt": "salut", "bjr": "bonjour",
    "bsr": "bonsoir", "cc": "coucou", "bcp": "beaucoup", "tjs": "toujours", "tjrs": "toujours",
    "ds": "dans", "dc": "donc", "pr": "pour", "ps": "pas", "pa": "pas", "pas": "pas", "ke": "que", "ki": "qui",
    "koi": "quoi", "kan": "quand", "qd": "quand", "qq": "quelqu", "qqn": "quelqu un", "qqun": "quelqu un",
    "qlq": "quelque", "kelk": "quelque", "ya": "il y a", "yen": "il y en", "yavait": "il y avait",
    "c": "c est", "ces": "ces", "cest": "c est", "ct": "c etait", "cetait": "c etait",
    "mtn": "maintenant", "mnt": "maintenant", "maintenan": "maintenant", "tt": "tout", "ttes": "toutes",
    "tte": "toute", "tlm": "tout le monde", "auj": "aujourd hui", "ajd": "aujourd hui", "oj": "aujourd hui",
    "aujourdhui": "aujourd hui", "dmain": "demain", "2main": "demain", "hier": "hier", "mm": "meme",
    "vs": "vous", "nn": "non", "ui": "oui", "ouai": "ouais", "bg": "beau gosse", "mec": "mec",
    "frer": "frere", "soeur": "soeur", "sœur": "soeur", "mere": "mere", "daron": "pere", "daronne": "mere",
    "keuf": "police", "keufs": "police", "flic": "police", "flics": "police", "ptn": "putain", "pdt": "pendant",
    "dsl": "desole", "vrmt": "vraiment", "vrm": "vraiment", "trkl": "tranquille", "msg": "message",
    "msgs": "messages", "tel": "telephone", "tél": "telephone", "fb": "facebook", "insta": "instagram",
    "ns": "nous", "nrv": "enerve", "oqp": "occupe", "t": "t", "o": "au", "secour": "secours",
}

# Apostrophe-less elisions people write ("ma frappé" for "m'a frappé" is handled below:
# "ma" is also a possessive, so only before a past participle).
_PARTICIPLE = r"(?:frappee?s?|tapee?s?|battue?s?|bate?|violee?s?|menacee?s?|agressee?s?|etranglee?s?|insultee?s?|poussee?s?|enfermee?s?|volee?s?|touchee?s?|forcee?s?|cognee?s?|giflee?s?|mordue?s?|brulee?s?|tuee?s?|blessee?s?|viree?s?|jetee?s?|attachee?s?|sequestree?s?|harcelee?s?|arnaquee?s?|escroquee?s?|cambriolee?s?|suivie?s?|dit|fait|mis|pris|casse|cassee|envoye|ecrit|appele|laisse|lache|donne|tabassee?s?|defoncee?s?|etouffee?s?|attrapee?s?|tire|trainee?s?|insulte|frappe|tape|menace|agresse|etrangle|pousse|enferme|vole|touche|force|viole|harcele|arnaque)"
# only "ma"/"ta": "la" before a verb is the pronoun ("il la frappe" = he hits her)
_MA_PARTICIPLE = re.compile(rf"\b(m|t)a ({_PARTICIPLE})\b")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_CLAUSE_BREAK = re.compile(r"[.!?;\n]+|,\s*(?=mais\b)|\bmais\b|\bsauf que\b|\bpar contre\b|\balors que\b")
_REPEATS = re.compile(r"(.)\1{2,}")  # "noooon" -> "noon"; keeps real double letters


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """Folded, SMS-expanded text: words separated by single spaces."""
    folded = _NON_WORD.sub(" ", fold(text or ""))
    folded = _REPEATS.sub(r"\1\1", folded)
    words = []
    raw = folded.split()
    for i, w in enumerate(raw):
        if w == "c" and i + 1 < len(raw) and raw[i + 1] in ("est", "etait"):
            words.append(w)  # "c'est" folded: not the SMS "c" for "c'est"
        else:
            words.append(SMS.get(w, w))
    out = " ".join(words)
    return _MA_PARTICIPLE.sub(r"\1 a \2", out)


def clauses(text: str) -> list[str]:
    """Normalised clauses: split at sentence ends and at the words that turn a story
    ("mais", "maintenant", "aujourd'hui"), so "il m'a frappée il y a trois ans mais
    maintenant je suis en sécurité" gives separate clauses for time and negation checks."""
    parts = _CLAUSE_BREAK.split(fold_keep(text))
    return [n for n in (normalize(p) for p in parts) if n]


def fold_keep(text: str) -> str:
    """Lower case without accents, punctuation kept (for clause splitting)."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", (text or "").replace("œ", "oe").replace("Œ", "oe"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def tokens(text: str) -> list[str]:
    return normalize(text).split()
