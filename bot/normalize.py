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

__all__ = ["normalize", "clauses", "tokens", "SMS", "squeeze", "squeeze_regex", "prepare_clauses"]

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


# ---------------------------------------------------------------- for reviewed patterns
#
# The danger and distress patterns (bot/danger.yml) read clauses made ready by
# `prepare_clauses`, on top of `normalize`:
# * letters repeated for emphasis are squeezed ("auuu secouuurs", "frapppe"), and so are
#   doubled letters, so "frappe" and "frape" read the same (`squeeze_regex` squeezes the
#   patterns the same way when they are loaded);
# * SMS spellings whose letters were repeated are expanded again ("jsuuis");
# * a few more SMS spellings ("kil", "plu", "jtiens", "jpp");
# * "ma"/"ta" before a violent past participle, or its infinitive, is "m a" ("il ma etrangler");
# * "c est est", which `normalize` makes of "c'est" ("c" is an SMS key), is "c est";
# * "plus l a force", which `normalize` makes of "plus la force", is "plus la force" (a few
#   nouns, after a word that cannot be a subject or an object pronoun).

_RUN = re.compile(r"([a-z])\1+")


def squeeze(text: str) -> str:
    """Collapse runs of one letter: 'frappe' -> 'frape', 'secouuurs' -> 'secours'."""
    return _RUN.sub(r"\1", text)


def squeeze_regex(source: str) -> str:
    """Squeeze doubled letters of a regex source, leaving escapes (\\b, \\d...) intact."""
    out: list[str] = []
    i = 0
    while i < len(source):
        c = source[i]
        if c == "\\" and i + 1 < len(source):
            out.append(source[i : i + 2])
            i += 2
            continue
        nxt = source[i + 1] if i + 1 < len(source) else ""
        # "pp" -> "p" and "pp+" -> "p+", but "ee?" stays: "e?" alone would also match nothing.
        if c.isalpha() and out and out[-1] == c and nxt not in ("?", "*", "{"):
            i += 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


# SMS spellings `normalize` leaves alone (kept small and unambiguous).
EXTRA_SMS = {
    "kil": "qu il", "kils": "qu ils", "kel": "quel", "kelle": "qu elle", "jveu": "je veux",
    "veu": "veux", "plu": "plus", "jtiens": "je tiens", "jtien": "je tiens", "jpp": "j en peux plus",
    "jpeu": "je peux", "tjr": "toujours", "jmen": "je m en", "jme": "je me", "jsais": "je sais",
    "ajd": "aujourd hui", "e": "est", "devan": "devant", "derier": "derriere", "1": "un", "1e": "une",
}
# SMS keys by their squeezed spelling, so that an emphasised "jsuuis" or "qqnn" still expands
# (not the squeezed forms that are words or other keys: "tt" -> "t", "ttes" -> "tes").
_NOT_SMS = {"t", "m", "n", "s", "te", "tes", "me", "ne", "ce", "se", "le", "la", "de"}
_SMS_SQUEEZED = {
    squeeze(k): v for k, v in {**SMS, **EXTRA_SMS}.items()
    if v != k and (squeeze(k) == k or (squeeze(k) not in SMS and squeeze(k) not in _NOT_SMS))
}
_ELIDED = re.compile(
    r"\b([mt])a ((?:frap|tap|cogn|tabas|etrangl|etouf|egorg|poignard|plant|enferm|atach|sequestr|enlev|"
    r"kidnap|viol|menac|agres|bles|brul|bloqu|coinc|drogu|jet|pous|lanc|defonc|forc|tir|tu|gifl|ecras|"
    r"bat|mord|ligot|train|balanc|insult|touch|vol|suiv|arnaqu|escroqu|cambriol|harcel|cas|vir|atrap|"
    r"retenu|menot)(?:e|es|er|ee|ees|u|ue|us|ues|i|ie|is)?)\b"
)
_C_EST = re.compile(r"\bc est (?=(?:est|etait|etaient|sera|serait|fut)\b)")
_LA_NOUN = re.compile(r"\b(\w+) l a (force|menace|touche|case|pouse|vole|jete)\b")
_PRONOUNS = {"il", "elle", "on", "ils", "elles", "qui", "je", "j", "tu", "nous", "vous", "ne", "n",
             "me", "m", "te", "t", "se", "s", "lui", "y", "en", "que", "qu"}


def prepare_clauses(normalised: list[str]) -> list[str]:
    """Normalised clauses (`clauses`) made ready for squeezed patterns (see above); the
    clauses are handled together, a few regex passes for the whole message."""
    text = "\n".join(normalised)
    squeezed = squeeze(text)
    words, squeezed_words = set(text.split()), set(squeezed.split())
    # Only when some word is an SMS spelling once squeezed ("jsuuis"), or one of ours ("kil").
    if (squeezed_words & _SMS_SQUEEZED.keys()) - words or not EXTRA_SMS.keys().isdisjoint(words):
        lines = []
        for line, sline in zip(text.split("\n"), squeezed.split("\n")):
            out = []
            for w, sq in zip(line.split(" "), sline.split(" ")):
                if w in EXTRA_SMS:
                    out.append(EXTRA_SMS[w])
                elif sq != w:  # repeated letters: "jsuuis" is still "jsuis"
                    out.append(_SMS_SQUEEZED.get(sq, sq))
                else:
                    out.append(w)
            lines.append(" ".join(out))
        squeezed = squeeze("\n".join(lines))
    text = _C_EST.sub("c ", squeezed) if "c est " in squeezed else squeezed
    if " l a " in text:
        text = _LA_NOUN.sub(lambda m: m.group(0) if m.group(1) in _PRONOUNS else f"{m.group(1)} la {m.group(2)}", text)
    if "a " in text:
        text = _ELIDED.sub(r"\1 a \2", text)
    return text.split("\n") if text else []
