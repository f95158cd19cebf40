"""Read access to the directory: an in-memory snapshot for the rules engine and the
chat (microsecond lookups), SQL for the search (FTS5, paging)."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlite_utils

from .communes import Commune, CommuneIndex, Resolution
from .db import connect
from .errors import DirectoryError, NotFound
from .phones import Phone
from .schema import migrate
from .services import Service, contact
from .stemming import stem_words
from .text import fold
from .vocabulary import DATA_DIR, Vocabulary, load_vocabulary

__all__ = ["Territory", "Snapshot", "Directory", "SearchHit", "MAX_PER_PAGE"]

MAX_PER_PAGE = 500


@dataclass(frozen=True)
class Territory:
    id: str
    name: str
    kind: str
    rank: int
    assumption: str | None = None
    a_verifier: bool = False

    def as_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "kind": self.kind}


@dataclass(frozen=True)
class SearchHit:
    service: Service
    scope: Territory | None  # the area through which the service covers the commune

    def why(self, vocabulary: Vocabulary) -> str:
        if self.scope is None:
            return vocabulary.categories.get(self.service.category, self.service.category)
        if self.scope.kind == "national":
            return "Service national, joignable de partout"
        if self.scope.kind == "departement":
            return f"Service pour tout le département ({self.scope.name})"
        return f"Couvre votre commune ({self.scope.name})"


class Snapshot:
    """Everything the rules and the chat read, held in memory; rebuilt after each change."""

    def __init__(self, db: sqlite_utils.Database):
        self.territories = {r["id"]: Territory(r["id"], r["name"], r["kind"], r["rank"], r["assumption"],
                                               bool(r["a_verifier"]))
                            for r in db.query("SELECT * FROM territory")}
        self.commune_territories: dict[str, tuple[str, ...]] = {}
        rows = db.execute("SELECT insee, territory_id FROM territory_commune ORDER BY insee").fetchall()
        grouped: dict[str, list[str]] = {}
        for insee, tid in rows:
            grouped.setdefault(insee, []).append(tid)
        self.commune_territories = {k: tuple(v) for k, v in grouped.items()}
        communes = [Commune(r["insee"], r["name"], tuple(r["postal_codes"].split()), r["arrondissement"],
                            r["epci"], r["epci_name"], r["population"])
                    for r in db.query("SELECT * FROM commune ORDER BY insee")]
        aliases = [(r["alias"], r["insee"]) for r in db.query("SELECT alias, insee FROM commune_alias")]
        elsewhere = [(r["norm"], r["name"], r["departement"], r["population"]) for r in
                     db.query("SELECT norm, name, departement, population FROM place_elsewhere")]
        self.communes = CommuneIndex(communes, aliases, elsewhere)
        self.services = _read_services(db)
        self.by_territory: dict[str, list[str]] = {}
        for s in self.services.values():
            for t in s.area:
                self.by_territory.setdefault(t, []).append(s.id)

    def territories_of(self, insee: str) -> list[Territory]:
        ts = [self.territories[t] for t in self.commune_territories.get(insee, ())]
        return sorted(ts, key=lambda t: (t.rank, t.kind, t.id))

    def covers(self, service: Service, insee: str | None) -> Territory | None:
        """The most local territory through which `service` covers the commune, if any."""
        if insee is None:
            return None
        mine = set(self.commune_territories.get(insee, ()))
        scopes = [self.territories[t] for t in service.area if t in mine]
        return min(scopes, key=lambda t: (t.rank, t.id)) if scopes else None


def _read_services(db: sqlite_utils.Database, where: str = "1=1", params: tuple = ()) -> dict[str, Service]:
    phones: dict[str, list[Phone]] = {}
    for r in db.execute("SELECT service_id, number, type FROM phone ORDER BY service_id, position"):
        phones.setdefault(r[0], []).append(Phone(r[1], r[2]))
    situations: dict[str, list[str]] = {}
    for sid, term in db.execute("SELECT service_id, taxonomy_term_id FROM attribute WHERE taxonomy_term_id LIKE 'situation:%'"):
        situations.setdefault(sid, []).append(term.split(":", 1)[1])
    areas: dict[str, list[str]] = {}
    for sid, tid in db.execute("SELECT service_id, territory_id FROM service_area"):
        areas.setdefault(sid, []).append(tid)
    closures: dict[str, list] = {}
    if db["service_closure"].exists():
        for sid, start, end, reason in db.execute(
                "SELECT service_id, start, end, reason FROM service_closure WHERE end >= date('now', '-1 day') ORDER BY start"):
            closures.setdefault(sid, []).append((start, end, reason))
    addresses = {r["service_id"]: r for r in db.query(
        "SELECT sal.service_id, a.address_1, a.postal_code, a.city, l.confidential FROM service_at_location sal "
        "JOIN location l ON l.id = sal.location_id JOIN address a ON a.location_id = l.id")}
    result = {}
    for r in db.query(
        f"SELECT s.*, o.name AS organization, src.title AS source_title FROM service s "
        f"LEFT JOIN organization o ON o.id = s.organization_id LEFT JOIN source src ON src.id = s.source_id "
        f"WHERE {where} ORDER BY s.id", params):
        addr = addresses.get(r["id"])
        result[r["id"]] = Service(
            id=r["id"], name=r["name"], organization=r["organization"], category=r["category"],
            description=r["description"], url=r["url"], visibility=r["visibility"], cost=r["cost"],
            emergency=bool(r["emergency"]), access=r["access"], hours=r["hours"],
            ages=tuple(r["ages"].split()), roles=tuple(r["roles"].split()), source=r["source_title"],
            verified_on=r["verified_on"], a_verifier=bool(r["a_verifier"]),
            phones=tuple(phones.get(r["id"], ())), situations=tuple(situations.get(r["id"], ())),
            area=tuple(sorted(areas.get(r["id"], ()))),
            address=({"street": addr["address_1"], "postal_code": addr["postal_code"], "city": addr["city"]}
                     if addr else None),
            confidential_address=bool(r["address_confidential"] or (addr and addr["confidential"])),
            status=r["status"], version=r["version"],
            source_id=r["source_id"], closures=tuple(closures.get(r["id"], ())),
            email=r["email"], genders=tuple(r["genders"].split()),
            languages=tuple((r.get("languages") or "").split()),
        )
    return result


def _fts_query(q: str) -> str | None:
    """A safe FTS5 query: every word (or its French stem) as a quoted prefix, all required."""
    words = [w for w in fold(q).split() if w]
    if not words:
        return None
    parts = []
    for w in words:
        stems = stem_words(w)
        alts = {f'"{w}"*'} | {f'"{s}"*' for s in stems if s}
        parts.append("(" + " OR ".join(sorted(alts)) + ")")
    return " AND ".join(parts)


class Directory:
    """The directory of one database: snapshot for reads, SQL for search."""

    def __init__(self, db: sqlite_utils.Database, data_dir: Path = DATA_DIR):
        self.db = db
        self.vocabulary = load_vocabulary(data_dir)
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str | Path, data_dir: Path = DATA_DIR) -> "Directory":
        db = connect(path)
        migrate(db)
        return cls(db, data_dir)

    # -- snapshot ---------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        snap = self._snapshot
        if snap is None:
            with self._lock:
                if self._snapshot is None:
                    self._snapshot = Snapshot(self.db)
                snap = self._snapshot
        return snap

    def invalidate(self) -> None:
        """Call after any write, so the chat and the API see the change at once."""
        self._snapshot = None

    def is_empty(self) -> bool:
        return not self.db["service"].exists() or self.db["service"].count == 0

    # -- sources and versions (read straight from the tables: they change under the snapshot)
    def sources(self) -> list[dict]:
        """The sources an entry may cite, as {id, title, url, date}, by title."""
        return [dict(r) for r in self.db.query("SELECT id, title, url, date FROM source ORDER BY title, id")]

    def source_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM source")}

    def version_of(self, service_id: str) -> int | None:
        """The stored version of an entry (None: no such entry), even if the snapshot is older."""
        row = self.db.execute("SELECT version FROM service WHERE id = ?", [service_id]).fetchone()
        return row[0] if row else None

    # -- communes ---------------------------------------------------------------
    def resolve_commune(self, text: str, codes: str = "postal") -> Resolution:
        return self.snapshot.communes.resolve(text, codes=codes)

    def commune(self, insee: str) -> Commune | None:
        return self.snapshot.communes.by_insee.get(insee)

    def territories_of(self, insee: str) -> list[Territory]:
        return self.snapshot.territories_of(insee)

    # -- services ---------------------------------------------------------------
    def service(self, service_id: str, *, include_pro: bool = False) -> Service:
        s = self.snapshot.services.get(service_id)
        if s is None or (not include_pro and not s.is_public):
            raise NotFound(f"aucun service « {service_id} » dans l'annuaire")
        return s

    def contact(self, service: Service, why: str, now: datetime | None = None) -> dict:
        return contact(service, why, now)

    def service_json(self, service: Service, why: str | None = None, now: datetime | None = None,
                     scope: Territory | None = None) -> dict:
        """A service as the public API shows it: the Contact fields plus what describes it."""
        return {
            **contact(service, why or SearchHit(service, scope).why(self.vocabulary), now),
            "organization": service.organization,
            "category": service.category,
            "description": service.description,
            "access": service.access,
            "cost": service.cost,
            "emergency": service.emergency,
            "phones": [{"number": p.number, "display": p.display, "type": p.type,
                        "link": p.sms if p.type == "sms" else p.tel} for p in service.phones],
            "situations": list(service.situations),
            "area": [self.snapshot.territories[t].as_dict() for t in service.area],
            "scope": scope.as_dict() if scope else None,
            # `address` is the Contact's one line; its parts for clients that file them
            "address_parts": service.public_address(),
            "a_verifier": service.a_verifier,
        }

    def search(self, q: str | None = None, *, commune: str | None = None, situation: str | None = None,
               category: str | None = None, page: int = 1, per_page: int = 20,
               include_pro: bool = False) -> tuple[list[SearchHit], int]:
        """Services matching the filters, most local first, then by text relevance, then by name.

        `commune` is an INSEE code (resolve free text first).
        """
        if page < 1:
            raise DirectoryError("la page doit être un nombre supérieur ou égal à 1", code="invalid_page", field="page")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise DirectoryError(f"per_page doit être compris entre 1 et {MAX_PER_PAGE}", code="invalid_per_page", field="per_page")
        if situation is not None and situation not in self.vocabulary.situations:
            raise DirectoryError(f"situation « {situation} » inconnue", code="unknown_situation", field="situation")
        if category is not None and category not in self.vocabulary.categories:
            raise DirectoryError(f"catégorie « {category} » inconnue", code="unknown_category", field="category")
        joins, where, params = [], ["s.status = 'active'"], []
        scope_rank = "0"
        if commune is not None:
            joins.append("JOIN service_area sa ON sa.service_id = s.id "
                         "JOIN territory_commune tc ON tc.territory_id = sa.territory_id AND tc.insee = ? "
                         "JOIN territory t ON t.id = sa.territory_id")
            params.append(commune)
            scope_rank = "MIN(t.rank)"
        if situation is not None:
            joins.append("JOIN attribute a ON a.service_id = s.id AND a.taxonomy_term_id = ?")
            params.append(f"situation:{situation}")
        text_rank = "0"
        fts = _fts_query(q) if q else None
        if q and fts is None:
            return [], 0
        if fts:
            joins.append("JOIN (SELECT rowid, rank FROM service_fts WHERE service_fts MATCH ?) f ON f.rowid = s.rowid")
            params.append(fts)
            text_rank = "MIN(f.rank)"
        if not include_pro:
            where.append("s.visibility = 'public'")
        if category is not None:
            where.append("s.category = ?")
            params.append(category)
        base = (f"SELECT s.id AS id, {scope_rank} AS scope_rank, {text_rank} AS text_rank, s.name AS name "
                f"FROM service s {' '.join(joins)} WHERE {' AND '.join(where)} GROUP BY s.id")
        total = self.db.execute(f"SELECT COUNT(*) FROM ({base})", params).fetchone()[0]
        rows = self.db.execute(
            f"SELECT id FROM ({base}) ORDER BY scope_rank, text_rank, name, id LIMIT ? OFFSET ?",
            [*params, per_page, (page - 1) * per_page]).fetchall()
        snap = self.snapshot
        hits = []
        for (sid,) in rows:
            service = snap.services.get(sid)
            if service is None:  # written after the snapshot: read it directly
                service = _read_services(self.db, "s.id = ?", (sid,))[sid]
            hits.append(SearchHit(service, snap.covers(service, commune)))
        return hits, total
