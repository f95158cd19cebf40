"""Which commune a message talks about, through the directory's commune index.

Communes of the Aisne come first. Exact names, aliases (delegated communes), "st"
abbreviations and postal codes are found anywhere; a single-word or small commune is
taken only after a place cue ("à", "j'habite", "près de", "sur", "vers"...), because many
communes are also first names or words ("Germaine", "Fleury", "Soupir", "en guise de").

A place elsewhere in France makes the answer "out of the area" only when the message
introduces it as a place (#10): after a place cue, with a postal code or a département
("à Charmes dans les Vosges", "Bu (28)"), or a known town after "à" ("à Reims"). Names
that are ordinary French words ("quand il a bu", "la marche à suivre", "à l'hôpital",
"au boulot") or very short need the writer's capital letter and a strong cue ("j'habite
à Bu"). What counts as an ordinary word comes from the French stop words and the
lemmatizer tables that spaCy's fr_core_news_sm ships (the model the classifier loads).

The result says how the place was introduced (``cue``): "residence" (j'habite, je vis
à...), "place" (another place cue or a code) or None (found bare), so that the dialogue
lets a place introduced as where the person lives replace what it knew.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path
import weakref
from dataclasses import dataclass, field
from functools import lru_cache

from directory import DATA_DIR, CommuneIndex, Commune
from directory.text import fold, normalize_place, place_tokens

__all__ = ["PlaceResult", "find_place", "is_common_word", "prepare"]

MAX_SPAN = 6
BIG_TOWN = 5000  # an Aisne name this populous is taken even without a place cue
TOWN = 1500  # an Aisne name this populous is a place after "à" even when it is also a word ("à guise")
KNOWN_TOWN = 20000  # a town elsewhere this populous is a place after a bare "à" ("à Reims")
SHORT = 3  # names of this many letters or fewer ("Bu", "Eu", "Y", "Dax") need a capital and a strong cue
# where the person lives: each of these, bare or followed by a preposition
_LIVES = ["j habite", "habite", "on habite", "nous habitons", "habitons", "je vis", "vis", "on vit", "vit", "vivons",
          "je reside", "reside", "domicile", "domiciliee", "domicilie", "je loge", "loge", "je demeure", "demeure"]
_PREPOSITIONS = ["", "a", "au", "aux", "en", "sur", "dans", "vers", "pres de", "pres d", "a cote de", "a cote d",
                 "du cote de", "dans le coin de", "sur la commune de", "dans la ville de"]
RESIDENCE_CUES = [f"{v} {p}".strip() for v in _LIVES for p in _PREPOSITIONS if f"{v} {p}".strip() != "vis"]
# cues that introduce a place whatever the word after them
STRONG_CUES = ["pres de", "pres d", "a cote de", "a cote d", "du cote de", "cote de", "dans le coin de", "secteur de",
               "region de", "commune de", "commune d", "ville de", "ville d", "village de", "village d",
               "sur la commune de", "dans la ville de", "originaire de", "je viens de", "venu de", "venue de",
               "aux alentours de", "alentours de", "environs de", "pas loin de", "non loin de", "demenage a",
               "demenagee a", "demenager a", "installe a", "installee a", "installes a"]
# cues that make the word after them a place when it is a place name and not a word
PLACE_CUES = [
    "je suis a", "on est a", "nous sommes a", "sommes a", "suis a", "est a", "vers", "sur", "a", "au", "aux",
    # "the station / school / hospital of X" is in X
    "gare de", "college de", "lycee de", "ecole de", "hopital de", "mairie de", "supermarche de", "retraite de",
    "ehpad de", "sortie de", "dame de", "monsieur de", "habitant de", "habitante de", "voisins de", "quartier de",
    "centre de", "centre ville de", "foyer de", "commissariat de", "gendarmerie de", "tribunal de", "piscine de",
    "auto ecole de", "clinique de", "marche de", "stade de", "salle des fetes de", "eglise de", "parc de",
]
WEAK_CUES = ["de", "d"]
CUES = {**{c: "place" for c in WEAK_CUES + PLACE_CUES}, **{c: "strong" for c in STRONG_CUES},
        **{c: "residence" for c in RESIDENCE_CUES}}
BARE = {"a", "au", "aux", "en", "vers", "sur", "de", "d"}  # bare prepositions: the weakest place cues
WEAK = {"de", "d", "sur"}  # too common to make a small Aisne name a place on their own
STREET = re.compile(r"\b(?:rue|avenue|av|bd|boulevard|route|chemin|place|allee|impasse|quai|collegue|madame|mme)"
                    r"\s+(?:de|du|des|d|la|le|l)?\s*$")
# words that follow "a" or "de" as verbs or pronouns, never as a misspelt town
COMMON = set("""fait fais faire ete etait dit dis mis pris vu eu un une le la les des du de mon ma mes son sa ses ce
cet cette moi toi lui elle il ils on nous vous qui que quoi tout tous rien plus pas bien mal peur cause part partir
chez dans pour par avec sans sous sur vers cote coup coups casse force cause envie besoin mort vie faim froid sommeil
""".split())
NOT_PLACES = {"en guise de", "guise de"}
ARTICLES = {"le", "la", "les", "l"}
DEP_NUMBER = re.compile(r"^(?:0[1-9]|[1-8][0-9]|9[0-5]|2a|2b|97[1-6])$")


@dataclass(frozen=True)
class PlaceResult:
    commune: Commune | None = None
    candidates: tuple[Commune, ...] = ()
    out_of_area: bool = False
    mentions: tuple[str, ...] = field(default=())
    cue: str | None = None  # "residence", "place" (a cue or a code) or None (found bare)


@lru_cache(maxsize=1)
def _departements() -> dict[str, str]:
    with (DATA_DIR / "departements.csv").open(encoding="utf-8") as fh:
        return {normalize_place(r["name"]): r["code"] for r in csv.DictReader(fh)}


WORDS_FILE = "french_words.npy"  # saved with the model: hashes of ordinary French words
_WORDS: list = []  # [sorted uint64 array] once loaded


def french_word_hashes():
    """Hashes (spaCy's string ids) of ordinary French words: spaCy's stop words, the words
    of the lemmatizer's rule tables and the forms of its lookup table, from the data of
    fr_core_news_sm (read at training time). A sorted array of 8-byte ints, 3 MB, where
    the tables themselves take over a hundred: the server never loads them."""
    import numpy
    from spacy.lang.fr.stop_words import STOP_WORDS
    from spacy.strings import get_string_id

    from .lemmas import package_lookups

    lookups = package_lookups()
    words = set(STOP_WORDS) | {fold(w) for w in STOP_WORDS}
    for name in ("lemma_index", "lemma_exc"):
        if lookups.has_table(name):
            table = lookups.get_table(name)
            for part in table.keys():
                words.update(table[part])  # a list of lemmas, or a dict keyed by form
    ids = {get_string_id(w) for w in words}
    if lookups.has_table("lemma_lookup"):
        ids.update(lookups.get_table("lemma_lookup").keys())
    return numpy.array(sorted(ids), dtype=numpy.uint64)


def save_words(directory: Path) -> None:
    import numpy
    numpy.save(Path(directory) / WORDS_FILE, french_word_hashes())


def load_words(directory: Path) -> bool:
    """Use the word list saved with the model (the server then never reads the tables)."""
    import numpy
    path = Path(directory) / WORDS_FILE
    if not path.exists():
        return False
    _WORDS[:] = [numpy.load(path)]
    _is_word.cache_clear()
    return True


def _lexicon():
    if not _WORDS:
        _WORDS.append(french_word_hashes())  # no list saved with the model (tests, an older model)
    return _WORDS[0]


def prepare(index: CommuneIndex) -> None:
    """Load the word list now, not on the first message."""
    _lexicon()


@lru_cache(maxsize=65536)
def _is_word(word: str) -> bool:
    import numpy
    from spacy.strings import get_string_id

    words = _lexicon()
    key = numpy.uint64(get_string_id(word))
    i = int(numpy.searchsorted(words, key))
    return i < len(words) and words[i] == key


def is_common_word(word: str, index: CommuneIndex | None = None) -> bool:
    """An ordinary French word ("bu", "marche", "hôpital", "boulot", "rue", "mère"), as
    the names of places or the person spell it (with their accents)."""
    return _is_word(word.lower())


_COMMON_NAMES: "weakref.WeakKeyDictionary[CommuneIndex, dict[str, bool]]" = weakref.WeakKeyDictionary()


def _name_words(name: str) -> list[str]:
    return [w for w in re.split(r"[\s\-'’]+", name) if w]


def _name_is_common(index: CommuneIndex, norm: str) -> bool:
    """Whether every word of a place name is an ordinary word ("La Marche", "L'Hôpital",
    "Bu", "Le Bois", "bourg" for Bourg-et-Comin): such a name is a place only when the
    writer shows it is one."""
    cache = _COMMON_NAMES.setdefault(index, {})
    if norm not in cache:
        n = len(norm.split())
        spellings = [e["name"] for e in index.elsewhere.get(norm, ())]
        spellings += [c.name for c in index.by_norm.get(norm, []) + index.by_alias.get(norm, [])
                      + index.by_head.get(norm, [])]
        heads = [_name_words(s)[:n] for s in spellings]
        heads = [h for h in heads if len(h) == n and normalize_place(" ".join(h)) == norm] or [norm.split()]
        cache[norm] = any(all(is_common_word(w, index) for w in h) for h in heads)
    return cache[norm]


def _cue_before(words: list[str], start: int) -> str | None:
    for n in (7, 6, 5, 4, 3, 2, 1):
        if start - n >= 0:
            cue = " ".join(words[start - n:start])
            if cue in CUES:
                return cue
    return None


def _cue_kind(cue: str | None) -> str | None:
    return None if cue is None else ("residence" if CUES[cue] == "residence" else "place")


def _named_departement(words: list[str], caps: list[bool], end: int, deps: dict[str, str],
                       local: set[str], bracketed: set[str] = frozenset()) -> bool:
    """Whether the words right after a place name name another département: "Charmes dans
    les Vosges", "Bu (28)", "Bu en Eure-et-Loir", "Reims dans la Marne". A bare number
    after a word is no département ("m'appelle 30 fois"): it needs its brackets."""
    j = end
    if j < len(words) and DEP_NUMBER.match(words[j]):
        return words[j] in bracketed and words[j] not in local
    if j < len(words) and words[j] in ("dans", "en", "departement"):
        k = j + 1
        while k < len(words) and words[k] in ARTICLES | {"du", "de", "d"}:
            k += 1
        if k < len(words) and DEP_NUMBER.match(words[k]):
            return words[k] not in local
        for n in range(4, 0, -1):
            name = " ".join(words[k:k + n])
            if name in deps and deps[name] not in local:
                return True
    return False


def _other_departement_named(index: CommuneIndex, words: list[str], caps: list[bool], deps: dict[str, str],
                             local: set[str]) -> bool:
    """"... dans l'Allier", "dans le Nord", "en Moselle", "dans le 51", "département 59":
    another département is named as a place. "En somme", "la Manche de sa veste" are not:
    a département whose name is a word needs an article after "dans" or a capital."""
    for i, w in enumerate(words):
        if w not in ("dans", "en", "departement"):
            continue
        j = i + 1
        article = False
        while j < len(words) and words[j] in ARTICLES | {"du"}:
            article = True
            j += 1
        if j < len(words) and DEP_NUMBER.match(words[j]) and (w != "en" and (article or w == "departement")):
            if words[j] not in local:
                return True
            continue
        for n in range(4, 0, -1):
            name = " ".join(words[j:j + n])
            if name in deps and deps[name] not in local:
                wordy = all(is_common_word(x, index) for x in name.split())
                if not wordy or caps[j] or (w == "dans" and article) or w == "departement":
                    return True
                break
    return False


def find_place(text: str, index: CommuneIndex) -> PlaceResult:
    tokens = place_tokens(text)
    words = [w for w, _, _ in tokens]
    caps = [c for _, c, _ in tokens]
    written = [r for _, _, r in tokens]
    norm = " ".join(words)
    local = set(index.departements)
    bracketed = {m.lower() for m in re.findall(r"\(\s*(\d{2}|2[abAB]|97\d)\s*\)", text)}
    # 1. codes: postal (or INSEE) codes anywhere
    for m in re.finditer(r"\b(\d{5})\b(?!\s*(?:euros?|eur|e|km|m|habitants|personnes))", norm):
        code = m.group(1)
        res = index.resolve(code)
        cue = _cue_before(words, len(norm[:m.start()].split()))
        if res.status == "out_of_area" and not (cue or norm == code):
            continue  # a number, not a place: "30000 euros", a file number
        kind = _cue_kind(cue) or "place"
        if res.status == "found":
            return PlaceResult(res.commune, tuple(m.commune for m in res.candidates), mentions=(code,), cue=kind)
        if res.status == "ambiguous":
            return PlaceResult(None, tuple(m.commune for m in res.candidates), mentions=(code,), cue=kind)
        if res.status == "out_of_area":
            return PlaceResult(out_of_area=True, mentions=(code,), cue=kind)
    found: list[tuple[int, int, int, list[Commune], str | None]] = []  # (start, end, strength, communes, cue)
    elsewhere: list[tuple[int, int, str | None]] = []  # (start, end, cue)
    deps = _departements()
    # words inside a phrase that is never a place ("en guise de")
    blocked = set()
    for phrase in NOT_PLACES:
        n = len(phrase.split())
        for i in range(len(words) - n + 1):
            if " ".join(words[i:i + n]) == phrase:
                blocked.update(range(i, i + n))
    for start in range(len(words)):
        if start in blocked:
            continue
        before = " ".join(words[max(0, start - 4):start])
        if STREET.search(before + " "):
            continue
        cue = _cue_before(words, start)
        for end in range(min(len(words), start + MAX_SPAN), start, -1):
            span = " ".join(words[start:end])
            communes = index.by_norm.get(span) or index.by_alias.get(span)
            head = False
            if not communes and cue and cue not in WEAK:
                communes = index.by_head.get(span)
                head = bool(communes)
            if communes and _named_departement(words, caps, end, deps, local, bracketed):
                communes = None  # "Saint-Quentin dans les Yvelines", "Charmes (88)": a homonym elsewhere
                elsewhere.append((start, end, cue))
            if communes:
                strength = _local_strength(index, span, communes, cue, caps[start], end - start, head)
                if strength:
                    found.append((start, end, strength, communes, cue))
            if span in index.elsewhere and _introduced_elsewhere(index, span, words, caps, start, end, cue, deps,
                                                                 local, bracketed, written):
                elsewhere.append((start, end, cue))
    named_other_dep = _other_departement_named(index, words, caps, deps, local)
    # drop Aisne matches covered by a longer out-of-area mention
    kept = [f for f in found if not any(s <= f[0] and f[1] <= e and (e - s) > (f[1] - f[0])
                                        for s, e, _ in elsewhere)]
    if not kept:
        # a typo of a local name ("a chateau thiery") beats a one-word homonym elsewhere
        if not any(e - s >= 2 for s, e, _ in elsewhere):
            typo = fuzzy_after_cue(text, index)
            if typo.commune:
                return typo
        if elsewhere:
            s, e, cue = max(elsewhere, key=lambda x: (x[2] is not None and CUES[x[2]] == "residence", x[1] - x[0]))
            return PlaceResult(out_of_area=True, mentions=(" ".join(words[s:e]),), cue=_cue_kind(cue) or "place")
        if named_other_dep:
            return PlaceResult(out_of_area=True, cue="place")
        return PlaceResult()
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
        return PlaceResult(out_of_area=True, cue="place")
    mention = " ".join(words[top[0][0]:top[0][1]])
    kind = _cue_kind(top[0][4])
    if len({c.insee for c in top[0][3]}) == 1:
        return PlaceResult(top[0][3][0], tuple(communes[1:]), mentions=(mention,), cue=kind)
    return PlaceResult(None, tuple(communes), mentions=(mention,), cue=kind)


def _local_strength(index: CommuneIndex, span: str, communes: list[Commune], cue: str | None, capital: bool,
                    length: int, head: bool = False) -> int:
    """How surely a name of the Aisne is meant as a place: 3 where the person lives, 2
    after a place cue, 1 a long or populous name found bare, 0 not a place."""
    multiword = length >= 2
    big = max(c.population or 0 for c in communes) >= BIG_TOWN
    # "au bourg", "aux pommiers", "à la ville": a name that is an ordinary word, in
    # lower case after a bare preposition, is that word
    town = max(c.population or 0 for c in communes) >= TOWN
    # (three words or more are a name: "à la ville aux bois")
    if cue in BARE and not capital and not town and length < 3 and _name_is_common(index, span):
        return 0
    # the first words of a name ("la ville" of La Ville-aux-Bois) in lower case are words
    if head and not capital and length < 3 and _name_is_common(index, span):
        return 0
    if cue and CUES[cue] == "residence":
        return 3
    if cue and (cue not in WEAK or multiword or big):
        return 2
    if multiword or big:
        return 1
    return 0


def _introduced_elsewhere(index: CommuneIndex, span: str, words: list[str], caps: list[bool], start: int, end: int,
                          cue: str | None, deps: dict[str, str], local: set[str],
                          bracketed: set[str] = frozenset(), written: list[str] | None = None) -> bool:
    """Whether a name of a commune of another département is introduced as a place."""
    kind = CUES.get(cue) if cue else None
    strong = kind in ("residence", "strong")
    capital = caps[start]
    letters = len(span.replace(" ", ""))
    population = max((e.get("population") or 0) for e in index.elsewhere[span])
    # the name ("La Marche") or the words as written ("mère" for Méré) are ordinary words
    common = _name_is_common(index, span) or bool(written) and all(is_common_word(w, index) for w in written[start:end])
    if _named_departement(words, caps, end, deps, local, bracketed):
        # "à Charmes dans les Vosges", "Bu (28)"; not "chez sa mère dans le Nord"
        return capital or not (common or letters <= SHORT)
    if letters <= SHORT:
        return strong and capital
    if common:
        # "la marche à suivre", "à l'hôpital", "au boulot": only "j'habite à Bu", "à Tours"
        return capital and (strong or (kind is not None and population >= KNOWN_TOWN and cue not in WEAK_CUES))
    if strong:
        return True
    if kind is None:
        return len(words) == end - start  # the whole message is the name
    if population >= KNOWN_TOWN:
        return True  # "à Reims", "sur Lille", "de Marseille"
    if cue in BARE:
        # "à Marie", "parlé à Fabien": a village named like a first name after a bare
        # preposition is not taken; a long name is ("à Saint-Quentin-en-Yvelines")
        return end - start >= 2 and cue not in WEAK_CUES
    return True  # "je suis à ...", "la gare de ..."


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
            if len(span) < 5 or span in index.elsewhere or max(len(w) for w in span.split()) < 4:
                continue  # "l ime" (à l'IME) is no typo of Limé
            if all(is_common_word(w, index) for w in span.split()):
                continue  # "au marché" is no typo of Marchais
            res = index.resolve(span)
            if res.status == "found" and res.candidates and res.candidates[0].via in ("fuzzy", "sound"):
                score = res.candidates[0].score
                if best is None or score > best[0]:
                    best = (score, res.commune, span, cue)
    if best:
        return PlaceResult(best[1], mentions=(best[2],), cue=_cue_kind(best[3]))
    return PlaceResult()
