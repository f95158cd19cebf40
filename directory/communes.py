"""Commune resolution from free text: INSEE and postal codes, names with or without
accents, hyphens or abbreviations, delegated communes, typos (rapidfuzz)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from .text import normalize_place, sound

__all__ = ["Commune", "Match", "Resolution", "CommuneIndex"]

_LEADING = re.compile(r"^(?:(?:a|au|aux|en|sur|vers|pres de|pres d|a cote de|cote de|commune de|commune d|ville de|ville d|de|d)\s+)+")
_CONNECTORS = {"sur", "sous", "en", "les", "lez", "le", "la", "aux", "au", "et", "d", "de", "du", "des", "l", "s"}
_GENERIC_HEADS = {"saint", "sainte", "villers", "bois", "mont", "fontaine", "neuville", "chateau", "ville", "grand",
                  "petit", "vieil", "vieux", "haut", "bas", "notre", "dame", "pont", "beau", "val", "la", "le", "les"}
_CODE = re.compile(r"^(?:[0-9]{5}|2[ab][0-9]{3})$")


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    postal_codes: tuple[str, ...]
    arrondissement: str | None = None
    epci: str | None = None
    epci_name: str | None = None
    population: int | None = None

    def as_dict(self) -> dict:
        return {"code": self.insee, "name": self.name, "postal_codes": list(self.postal_codes)}


@dataclass(frozen=True)
class Match:
    commune: Commune
    score: float
    via: str  # insee | postal_code | name | alias | fuzzy
    matched: str

    def as_dict(self) -> dict:
        return {**self.commune.as_dict(), "score": round(self.score / 100, 3), "via": self.via, "matched": self.matched}


@dataclass(frozen=True)
class Resolution:
    """What a piece of text designates: found, ambiguous, not_found or out_of_area."""

    query: str
    status: str
    commune: Commune | None = None
    candidates: tuple[Match, ...] = ()
    elsewhere: tuple[dict, ...] = field(default=())

    @property
    def found(self) -> bool:
        return self.status == "found"


class CommuneIndex:
    """An in-memory index of the served communes (about 800 rows: microseconds to query)."""

    FOUND_SCORE = 88.0  # a fuzzy match above this, clear of the runner-up, is taken
    MARGIN = 4.0
    CUTOFF = 78.0

    def __init__(self, communes: list[Commune], aliases: list[tuple[str, str]],
                 elsewhere: list[tuple] = ()):
        self.by_insee = {c.insee: c for c in communes}
        self.by_postal: dict[str, list[Commune]] = {}
        self.by_norm: dict[str, list[Commune]] = {}
        for c in communes:
            for pc in c.postal_codes:
                self.by_postal.setdefault(pc, []).append(c)
            self.by_norm.setdefault(normalize_place(c.name), []).append(c)
        # Names by their first word(s): "vailly" -> Vailly-sur-Aisne, "montescourt" ->
        # Montescourt-Lizerolles, "saint erme" -> Saint-Erme-Outre-et-Ramecourt.
        self.by_head: dict[str, list[Commune]] = {}
        for norm, cs in self.by_norm.items():
            words = norm.split()
            for n in range(1, len(words)):
                head = " ".join(words[:n])
                if words[n - 1] in _CONNECTORS or head in _GENERIC_HEADS:
                    continue
                self.by_head.setdefault(head, []).extend(c for c in cs if c not in self.by_head.get(head, []))
        self.by_sound: dict[str, list[Commune]] = {}
        for norm, cs in self.by_norm.items():
            self.by_sound.setdefault(sound(norm), []).extend(cs)
        self.by_alias: dict[str, list[Commune]] = {}
        for alias, insee in aliases:
            norm = normalize_place(alias)
            if insee in self.by_insee and self.by_insee[insee] not in self.by_alias.get(norm, []):
                self.by_alias.setdefault(norm, []).append(self.by_insee[insee])
        self.elsewhere: dict[str, list[dict]] = {}
        # (norm, name, departement[, population]): the population tells a known town
        for norm, name, dep, *rest in elsewhere:
            self.elsewhere.setdefault(norm, []).append({"name": name, "departement": dep,
                                                        "population": rest[0] if rest else None})
        # one choice list for rapidfuzz: names first, then aliases
        self._choices: list[str] = list(self.by_norm) + [a for a in self.by_alias if a not in self.by_norm]
        self.departements = {c.insee[:2] for c in communes}

    @staticmethod
    def _by_size(communes) -> list[Commune]:
        return sorted(communes, key=lambda c: (-(c.population or 0), c.name, c.insee))

    def _result(self, query: str, matches: list[Match]) -> Resolution:
        if len(matches) == 1:
            return Resolution(query, "found", matches[0].commune, tuple(matches))
        return Resolution(query, "ambiguous", None, tuple(matches))

    def resolve(self, text: str, *, limit: int = 10, codes: str = "postal") -> Resolution:
        """Resolve free text. A 5-digit code can be both a postal code and an INSEE code
        (02200 is Soissons' postal code and Clermont-les-Fermes' INSEE code): with
        codes="postal" (people) the postal reading comes first and the INSEE reading is one
        more candidate; with codes="insee" (API clients, who send INSEE codes) INSEE wins."""
        query = (text or "").strip()
        compact = re.sub(r"\s+", "", query).lower()
        if _CODE.match(compact):
            return self._resolve_code(query, compact.upper(), codes)
        norm = _LEADING.sub("", normalize_place(query)).strip()
        if not norm:
            return Resolution(query, "not_found")
        exact = self.by_norm.get(norm)
        if exact:
            return self._result(query, [Match(c, 100.0, "name", c.name) for c in self._by_size(exact)])
        alias = self.by_alias.get(norm)
        if alias:
            return self._result(query, [Match(c, 100.0, "alias", query) for c in self._by_size(alias)])
        # "Vailly" means Vailly-sur-Aisne here, even though Vailly exists elsewhere in France.
        heads = self.by_head.get(norm)
        if heads:
            return self._result(query, [Match(c, 95.0, "name", c.name) for c in self._by_size(heads)])
        if norm in self.elsewhere:
            return Resolution(query, "out_of_area", elsewhere=tuple(self.elsewhere[norm]))
        heard = self.by_sound.get(sound(norm))
        if heard:
            return self._result(query, [Match(c, 92.0, "sound", c.name) for c in self._by_size(heard)])
        return self._resolve_fuzzy(query, norm, limit)

    def _resolve_code(self, query: str, code: str, codes: str) -> Resolution:
        by_insee = self.by_insee.get(code)
        by_postal = self._by_size(self.by_postal.get(code, ()))
        if by_insee and (codes == "insee" or not by_postal):
            return Resolution(query, "found", by_insee, (Match(by_insee, 100.0, "insee", code),))
        if by_postal:
            matches = [Match(c, 100.0, "postal_code", code) for c in by_postal]
            if by_insee and by_insee not in by_postal:
                matches.append(Match(by_insee, 90.0, "insee", code))
                if len(by_postal) == 1:  # people mean their postal code; the INSEE reading stays a candidate
                    return Resolution(query, "found", by_postal[0], tuple(matches))
                return Resolution(query, "ambiguous", None, tuple(matches))
            return self._result(query, matches)
        if code[:2] not in self.departements:
            return Resolution(query, "out_of_area", elsewhere=({"departement": code[:2]},))
        return Resolution(query, "not_found")

    def _resolve_fuzzy(self, query: str, norm: str, limit: int) -> Resolution:
        hits = process.extract(norm, self._choices, scorer=fuzz.ratio, limit=limit * 2, score_cutoff=self.CUTOFF)
        best: dict[str, Match] = {}
        for choice, score, _ in hits:
            for c in self.by_norm.get(choice, []) + self.by_alias.get(choice, []):
                if c.insee not in best or best[c.insee].score < score:
                    best[c.insee] = Match(c, float(score), "fuzzy", choice)
        ranked = sorted(best.values(), key=lambda m: (-m.score, -(m.commune.population or 0), m.commune.insee))[:limit]
        if not ranked:
            return Resolution(query, "not_found")
        top = ranked[0]
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if top.score >= self.FOUND_SCORE and top.score - runner_up >= self.MARGIN:
            return Resolution(query, "found", top.commune, tuple(ranked))
        return Resolution(query, "ambiguous", None, tuple(ranked))

    def search(self, text: str, limit: int = 10) -> list[Match]:
        """Suggestions for a search box: the resolution's candidates, or prefix matches."""
        res = self.resolve(text, limit=limit)
        if res.candidates:
            return list(res.candidates)[:limit]
        norm = normalize_place(text)
        if len(norm) < 2:
            return []
        prefix = [c for n, cs in self.by_norm.items() if n.startswith(norm) for c in cs]
        return [Match(c, 90.0, "prefix", c.name) for c in self._by_size(prefix)][:limit]
