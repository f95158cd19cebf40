"""Which commune a message talks about, through the directory's commune index.

Exact names, aliases (delegated communes), "st" abbreviations and postal codes are
found anywhere; a single-word or small commune is taken only after a place cue
("à", "j'habite", "près de", "sur", "vers"...), because many communes of the Aisne
are also first names or words ("Germaine", "Fleury", "Soupir", "en guise de").
Places elsewhere in France ("Saint-Quentin-en-Yvelines", "Reims", "dans l'Allier")
make the answer "out of the area", never a commune of the Aisne.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache

from directory import DATA_DIR, CommuneIndex, Commune
from directory.text import normalize_place

__all__ = ["PlaceResult", "find_place"]

MAX_SPAN = 6
BIG_TOWN = 5000  # a name this populous is taken even without a place cue
CUES = [
    "j habite a", "j habite au", "j habite sur", "j habite", "habite a", "habite au", "habite sur", "habite",
    "je vis a", "vis a", "on vit a", "vit a", "domicile a", "reside a", "je suis a", "on est a", "nous sommes a",
    "sommes a", "suis a", "est a", "pres de", "pres d", "a cote de", "a cote d", "cote de", "du cote de",
    "dans le coin de", "secteur de", "region de", "commune de", "ville de", "village de", "vers", "sur", "a", "au",
    "aux", "de", "d",
    # "the station / school / hospital of X" is in X
    "gare de", "college de", "lycee de", "ecole de", "hopital de", "mairie de", "supermarche de", "retraite de",
    "ehpad de", "sortie de", "dame de", "monsieur de", "habitant de", "habitante de", "voisins de", "quartier de",
    "centre de", "centre ville de", "foyer de", "commissariat de", "gendarmerie de", "tribunal de", "piscine de",
    "auto ecole de", "clinique de", "marche de", "stade de", "salle des fetes de", "eglise de", "parc de",
]
RESIDENCE = {"j habite a", "j habite au", "j habite sur", "j habite", "habite a", "habite au", "habite sur", "habite",
             "je vis a", "vis a", "on vit a", "vit a", "domicile a", "reside a"}
WEAK = {"de", "d", "sur"}  # too common to make a small name a place on their own
STREET = re.compile(r"\b(?:rue|avenue|av|bd|boulevard|route|chemin|place|allee|impasse|quai|collegue|madame|mme)\s+(?:de|du|des|d|la|le|l)?\s*$")
# words that follow "a" or "de" as verbs or pronouns, never as a misspelt town
COMMON = set("""fait fais faire ete etait dit dis mis pris vu eu un une le la les des du de mon ma mes son sa ses ce
cet cette moi toi lui elle il ils on nous vous qui que quoi tout tous rien plus pas bien mal peur cause part partir
chez dans pour par avec sans sous sur vers cote coup coups casse force cause envie besoin mort vie faim froid sommeil
""".split())
NOT_PLACES = {"en guise de", "guise de"}


@dataclass(frozen=True)
class PlaceResult:
    commune: Commune | None = None
    candidates: tuple[Commune, ...] = ()
    out_of_area: bool = False
    mentions: tuple[str, ...] = field(default=())


@lru_cache(maxsize=1)
def _departements() -> dict[str, str]:
    with (DATA_DIR / "departements.csv").open(encoding="utf-8") as fh:
        return {normalize_place(r["name"]): r["code"] for r in csv.DictReader(fh)}


def _cue_before(words: list[str], start: int) -> str | None:
    for n in (4, 3, 2, 1):
        if start - n >= 0:
            cue = " ".join(words[start - n:start])
            if cue in CUES:
                return cue
    return None


def find_place(text: str, index: CommuneIndex) -> PlaceResult:
    norm = normalize_place(text)
    words = norm.split()
    # 1. codes: postal (or INSEE) codes anywhere
    for m in re.finditer(r"\b(\d{5})\b(?!\s*(?:euros?|eur|e|km|m|habitants|personnes))", norm):
        code = m.group(1)
        res = index.resolve(code)
        if res.status == "out_of_area" and not (_cue_before(words, len(norm[:m.start()].split())) or norm == code):
            continue  # a number, not a place: "30000 euros", a file number
        if res.status == "found":
            return PlaceResult(res.commune, tuple(m.commune for m in res.candidates), mentions=(code,))
        if res.status == "ambiguous":
            return PlaceResult(None, tuple(m.commune for m in res.candidates), mentions=(code,))
        if res.status == "out_of_area":
            return PlaceResult(out_of_area=True, mentions=(code,))
    found: list[tuple[int, int, int, list[Commune], str | None]] = []  # (start, end, strength, communes, kind)
    elsewhere: list[tuple[int, int]] = []
    deps = _departements()
    for start in range(len(words)):
        before = " ".join(words[max(0, start - 4):start])
        if STREET.search(before + " "):
            continue
        cue = _cue_before(words, start)
        for end in range(min(len(words), start + MAX_SPAN), start, -1):
            span = " ".join(words[start:end])
            if any(span.startswith(p) or (before + " " + span).endswith(p) for p in NOT_PLACES):
                continue
            communes = index.by_norm.get(span) or index.by_alias.get(span)
            if not communes and cue and cue not in WEAK:
                communes = index.by_head.get(span)
            if communes:
                multiword = end - start >= 2
                big = max(c.population or 0 for c in communes) >= BIG_TOWN
                if cue in RESIDENCE:
                    strength = 3
                elif cue and (cue not in WEAK or multiword or big):
                    strength = 2
                elif multiword or big:
                    strength = 1
                else:
                    strength = 0
                if strength:
                    found.append((start, end, strength, communes, cue))
            if span in index.elsewhere and (end - start >= 2 or (cue and cue not in WEAK)):
                elsewhere.append((start, end))
    # "... dans l'Allier", "... dans le Tarn": the place just named is in another département
    for i, w in enumerate(words):
        if w not in ("dans", "en"):
            continue
        j = i + 1 + (i + 1 < len(words) and words[i + 1] in ("le", "la", "les", "l"))
        for n in range(4, 0, -1):
            name = " ".join(words[j:j + n])
            if name in deps and deps[name] not in index.departements:
                elsewhere.append((i, i))  # marker: another département is named
                break
    # drop Aisne matches covered by a longer out-of-area mention
    kept = [f for f in found if not any(s <= f[0] and f[1] <= e and (e - s) > (f[1] - f[0]) for s, e in elsewhere)]
    if not kept:
        # a typo of a local name ("a chateau thiery") beats a one-word homonym elsewhere
        if not any(e - s >= 2 for s, e in elsewhere):
            typo = fuzzy_after_cue(text, index)
            if typo.commune:
                return typo
        return PlaceResult(out_of_area=bool(elsewhere))
    named_other_dep = any(s == e for s, e in elsewhere)
    best = max(f[2] for f in kept)
    top = [f for f in kept if f[2] == best]
    # longest mention first, then earliest
    top.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
    communes = []
    for f in top:
        for c in f[3]:
            if c not in communes:
                communes.append(c)
    if named_other_dep and best < 3:
        return PlaceResult(out_of_area=True)
    mention = " ".join(words[top[0][0]:top[0][1]])
    if len({c.insee for c in top[0][3]}) == 1:
        return PlaceResult(top[0][3][0], tuple(communes[1:]), mentions=(mention,))
    return PlaceResult(None, tuple(communes), mentions=(mention,))


def fuzzy_after_cue(text: str, index: CommuneIndex) -> PlaceResult:
    """Typos ("soisson", "sainquentin"): the 1 to 3 words after a place cue, resolved with
    rapidfuzz; taken only when the index finds one clear commune."""
    words = normalize_place(text).split()
    best = None
    for start in range(1, len(words)):
        cue = _cue_before(words, start)
        if not cue or cue in WEAK:
            continue
        if words[start] in COMMON:
            continue
        for n in (3, 2, 1):
            span = " ".join(words[start:start + n])
            if len(span) < 5 or span in index.elsewhere:
                continue
            res = index.resolve(span)
            if res.status == "found" and res.candidates and res.candidates[0].via in ("fuzzy", "sound"):
                score = res.candidates[0].score
                if best is None or score > best[0]:
                    best = (score, res.commune, span)
    if best:
        return PlaceResult(best[1], mentions=(best[2],))
    return PlaceResult()
