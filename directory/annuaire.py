"""Import of the national directory of public services (Annuaire de l'administration,
DILA, "base de données locales" JSON export, Licence Ouverte).

The file is `{"service": [record, ...]}`; a record (as documented by the DILA and
read by public code) holds `id` (stable UUID), `nom`, `pivot` ([{"type_service_local",
"code_insee_commune": [...]}]: its type and the communes it serves), `adresse`
([{"type_adresse", "numero_voie", "code_postal", "nom_commune", "latitude",
"longitude", ...}]), `telephone` ([{"valeur", "description"}]), `site_internet`
([{"libelle", "valeur"}]), `adresse_courriel` (a list, or a string in the API),
`plage_ouverture` ([{"nom_jour_debut", "nom_jour_fin", "valeur_heure_debut_1",
"valeur_heure_fin_1", "valeur_heure_debut_2", "valeur_heure_fin_2", "commentaire"}]),
`date_modification` ("JJ/MM/AAAA hh:mm:ss"), `code_insee_commune` (where it is),
`url_service_public`. The file is read as a stream (ijson): the national file is
large, and only the units of one département are kept.

`plan_import` reads and checks everything and changes nothing: what would be
added, changed and archived, the conflicts and the warnings. `apply_import` writes
a plan in one transaction, with the audit rows of every change. A second import
updates entries in place through the unit's `id` (table import_record); a field
staff edited since the last import (it differs from what that import wrote) is a
conflict: it is reported and kept, never overwritten.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import ijson

from .db import write_transaction
from .editing import _audit, _fresh, service_entry, write_service
from .errors import DirectoryError, LoadError, Problem
from .hours import validate_hours
from .loader import EMAIL_RE, validate_service
from .phones import parse_phone
from .repository import Directory
from .signals import close_signals
from .text import fold, normalize_place
from .vocabulary import DATA_DIR
from .yamlio import load_yaml

__all__ = ["ImportPlan", "Planned", "Conflict", "plan_import", "apply_import", "opening_hours", "read_mapping", "MANAGED"]

# The fields an import writes; the others (publics, cost, access, visibility...) are staff's.
MANAGED = ("name", "organization", "category", "description", "phones", "url", "email", "situations", "area",
           "address", "hours", "source", "verified_on")
DAYS = {"lundi": "Mo", "mardi": "Tu", "mercredi": "We", "jeudi": "Th", "vendredi": "Fr", "samedi": "Sa",
        "dimanche": "Su"}


@dataclass(frozen=True)
class Conflict:
    service_id: str
    field: str
    staff: object  # what staff set
    file: object  # what the file says


@dataclass(frozen=True)
class Planned:
    row: dict  # the validated entry to write (loader.validate_service's row)
    file: dict  # what the file says for each managed field: the next import's reference
    external_id: str
    type: str
    changes: tuple[tuple[str, object, object], ...] = ()  # (field, before, after) for an update

    @property
    def id(self) -> str:
        return self.row["id"]


@dataclass
class ImportPlan:
    file: str
    file_date: str
    types: tuple[str, ...]
    departement: str
    source: dict
    added: list[Planned] = field(default_factory=list)
    changed: list[Planned] = field(default_factory=list)
    unchanged: list[Planned] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)  # (id, name) to archive
    conflicts: list[Conflict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"added": len(self.added), "changed": len(self.changed), "unchanged": len(self.unchanged),
                "removed": len(self.removed), "conflicts": len(self.conflicts), "warnings": len(self.warnings)}

    def lines(self) -> list[str]:
        """The plan in French, as the dry run prints it."""
        out = [f"Fichier {self.file} du {_fr(self.file_date)}, types {', '.join(self.types)}, "
               f"département {self.departement}."]
        out.append(f"À ajouter ({len(self.added)}) :")
        out += [f"  + {p.id} — {p.row['name']} ({len(p.row['area'])} commune(s))" for p in self.added]
        out.append(f"À modifier ({len(self.changed)}) :")
        out += [f"  ~ {p.id} — {', '.join(f for f, _, _ in p.changes)}" for p in self.changed]
        out.append(f"À archiver, absents du fichier ({len(self.removed)}) :")
        out += [f"  - {sid} — {name}" for sid, name in self.removed]
        out.append(f"Conflits : modifiés par l'équipe depuis le dernier import, gardés tels quels ({len(self.conflicts)}) :")
        out += [f"  ! {c.service_id}, {c.field} : l'équipe a mis {_short(c.staff)}, le fichier dit {_short(c.file)}"
                for c in self.conflicts]
        if self.warnings:
            out.append(f"Avertissements ({len(self.warnings)}) :")
            out += [f"  · {w}" for w in self.warnings]
        out.append(f"Inchangés : {len(self.unchanged)}.")
        return out


def _fr(iso: str) -> str:
    return dt.date.fromisoformat(iso).strftime("%d/%m/%Y")


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else f"« {value} »"
    return text if len(text) <= 120 else text[:117] + "…"


def read_mapping(data_dir: Path = DATA_DIR) -> dict:
    """data/annuaire.yaml: the DILA types this directory imports, and what they become."""
    raw = load_yaml(Path(data_dir) / "annuaire.yaml")
    return {"source": dict(raw["source"]), "default_types": list(raw["default_types"]),
            "nearest": int(raw.get("nearest") or 1), "types": {k: dict(v) for k, v in raw["types"].items()}}


# -- reading the file ---------------------------------------------------------------------
def _records(path: Path):
    """The file's records one by one (a stream: the national file is large)."""
    try:
        with path.open("rb") as fh:
            yield from ijson.items(fh, "service.item", use_float=True)
    except FileNotFoundError:
        raise LoadError([Problem("missing_file", path.name, None, None, f"fichier {path} introuvable")]) from None
    except ijson.JSONError as exc:
        raise LoadError([Problem("json_syntax", path.name, None, None,
                                 f"ce n'est pas un fichier JSON lisible ({exc}) : téléchargez à nouveau l'export "
                                 "« base de données locales » de l'annuaire")]) from None


def _list(value) -> list:
    if value in (None, ""):
        return []
    return value if isinstance(value, list) else [value]


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _types(record: dict) -> list[tuple[str, list[str]]]:
    out = []
    for p in _list(record.get("pivot")):
        if isinstance(p, dict) and _text(p.get("type_service_local")):
            out.append((p["type_service_local"].strip(), [str(c) for c in _list(p.get("code_insee_commune"))]))
    return out


def _physical_address(record: dict) -> dict | None:
    addresses = [a for a in _list(record.get("adresse")) if isinstance(a, dict)]
    physical = [a for a in addresses if _text(a.get("type_adresse")).lower() == "adresse"] or addresses
    return physical[0] if physical else None


def _coordinates(address: dict | None) -> tuple[float, float] | None:
    try:
        lat, lon = float(address["latitude"]), float(address["longitude"])
    except (TypeError, KeyError, ValueError):
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 and (lat, lon) != (0.0, 0.0) else None


def _distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine): enough to tell the nearest unit."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 12742 * math.asin(math.sqrt(h))


def opening_hours(plages: list, problems: list[str] | None = None, label: str = "") -> str | None:
    """`plage_ouverture` as an OpenStreetMap opening_hours string, checked by opening-hours-py.

    Each plage is one rule; rules are joined with "," (OSM's additional rule), so two
    plages for the same day add up instead of the second replacing the first. Only
    what the file says: no public-holiday rule is added. None when nothing is usable."""
    rules = []
    for p in _list(plages):
        if not isinstance(p, dict):
            continue
        first = DAYS.get(fold(_text(p.get("nom_jour_debut"))))
        last = DAYS.get(fold(_text(p.get("nom_jour_fin")))) or first
        if first is None:
            if problems is not None and _text(p.get("nom_jour_debut")):
                problems.append(f"{label} : jour « {p.get('nom_jour_debut')} » illisible, plage ignorée")
            continue
        slots = []
        for n in (1, 2):
            start, end = _text(p.get(f"valeur_heure_debut_{n}"))[:5], _text(p.get(f"valeur_heure_fin_{n}"))[:5]
            if re.fullmatch(r"\d\d:\d\d", start) and re.fullmatch(r"\d\d:\d\d", end):
                slots.append(f"{start}-{end}")
        if slots:
            rules.append(f"{first if first == last else f'{first}-{last}'} {','.join(slots)}")
    if not rules:
        return None
    try:
        return validate_hours(", ".join(rules))
    except DirectoryError:
        if problems is not None:
            problems.append(f"{label} : horaires « {', '.join(rules)} » illisibles, ignorés")
        return None


def _iso_date(value) -> str | None:
    text = _text(value)
    for fmt in ("%d/%m/%Y %H:%M:%S", "%d/%m/%Y", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(text[:19], fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", normalize_place(text)).strip("-")[:70].strip("-")


@dataclass
class _Unit:
    external_id: str
    type: str
    record: dict
    listed: set[str]
    own: str | None
    at: tuple[float, float] | None
    area: set[str] = field(default_factory=set)


# -- the plan ---------------------------------------------------------------------------------
def _departement_of(codes) -> str:
    prefixes = Counter(c[:3] if c.startswith("97") else c[:2] for c in codes)
    return prefixes.most_common(1)[0][0] if prefixes else ""


def plan_import(directory: Directory, path: str | Path, *, types: list[str] | None = None,
                departement: str | None = None, file_date: str | None = None,
                data_dir: Path = DATA_DIR) -> ImportPlan:
    """Read and check the file; say what an import would do. Changes nothing."""
    path = Path(path)
    mapping = read_mapping(data_dir)
    snap = directory.snapshot
    ours = set(snap.communes.by_insee)
    if not ours:
        raise DirectoryError("l'annuaire n'a aucune commune : chargez d'abord les données (orientation db load)",
                             code="empty_directory")
    types = list(types or mapping["default_types"])
    unknown = [t for t in types if t not in mapping["types"]]
    if unknown:
        raise DirectoryError(f"type(s) {', '.join(unknown)} inconnu(s) de data/annuaire.yaml "
                             f"(possibles : {', '.join(mapping['types'])})", code="unknown_type", field="types")
    dep = _departement_of(ours)
    if departement and departement != dep:
        raise DirectoryError(f"cet annuaire couvre le département {dep}, pas {departement}", code="wrong_departement",
                             field="departement")
    if file_date is None:
        try:
            file_date = dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
        except FileNotFoundError:
            raise LoadError([Problem("missing_file", path.name, None, None, f"fichier {path} introuvable")]) from None
    source = {**mapping["source"], "date": file_date,
              "title": f"{mapping['source']['title']}, fichier « {path.name} » du {_fr(file_date)}"}
    plan = ImportPlan(path.name, file_date, tuple(types), dep, source)

    units: list[_Unit] = []
    town_halls: dict[str, tuple[float, float]] = {}
    seen, count = set(), 0
    for record in _records(path):
        count += 1
        if not isinstance(record, dict):
            continue
        pivots = _types(record)
        own = _text(record.get("code_insee_commune"))
        address = _physical_address(record)
        for kind, codes in pivots:
            if kind in ("mairie", "mairie_com"):
                at = _coordinates(address)
                for code in codes[:1] or [own]:
                    if code in ours and at and code not in town_halls:
                        town_halls[code] = at
        kind = next((k for k, _ in pivots if k in types), None)
        if kind is None:
            continue
        codes = next(c for k, c in pivots if k == kind)
        postal = _text((address or {}).get("code_postal"))
        if not ({own, *codes} & ours or postal.startswith(dep)):
            continue
        uid = _text(record.get("id"))
        if not uid or not _text(record.get("nom")):
            plan.warnings.append(f"une unité « {kind} » sans identifiant ou sans nom est ignorée")
            continue
        if uid in seen:
            plan.warnings.append(f"« {record['nom']} » ({uid}) figure deux fois : seule la première est gardée")
            continue
        seen.add(uid)
        units.append(_Unit(uid, kind, record, {c for c in codes if c in ours}, own if own in ours else None,
                           _coordinates(address)))
    if count == 0:
        raise LoadError([Problem("invalid_file", path.name, None, "service",
                                 "aucun enregistrement « service » : ce n'est pas l'export « base de données locales »"
                                 " de l'annuaire de l'administration")])
    _assign_areas(units, town_halls, mapping, ours, plan)
    _compare(directory, units, mapping, plan)
    return plan


def _assign_areas(units: list[_Unit], town_halls: dict, mapping: dict, ours: set[str], plan: ImportPlan) -> None:
    """Listed communes where the record lists them; otherwise the unit's own commune and
    the communes (not listed by any unit of the same category) it is the nearest to."""
    by_category: dict[str, list[_Unit]] = {}
    for u in units:
        u.area = set(u.listed)
        by_category.setdefault(mapping["types"][u.type]["category"], []).append(u)
    for category, group in by_category.items():
        unlisted = [u for u in group if not u.listed]
        if not unlisted:
            continue
        for u in unlisted:
            if u.own:
                u.area.add(u.own)
            if u.at is None and u.own in town_halls:
                u.at = town_halls[u.own]
        placed = [u for u in unlisted if u.at]
        if not town_halls or not placed:
            plan.warnings.append(f"{category} : {len(unlisted)} unité(s) sans communes listées et aucune coordonnée "
                                 "de mairie dans le fichier : chacune ne couvre que sa propre commune")
            continue
        covered = set().union(*(u.listed for u in group))
        for code, at in town_halls.items():
            if code in covered:
                continue
            nearest = sorted(placed, key=lambda u: (_distance_km(at, u.at), u.external_id))[:mapping["nearest"]]
            for u in nearest:
                u.area.add(code)
        missing = len(ours - covered - set(town_halls))
        if missing:
            plan.warnings.append(f"{category} : {missing} commune(s) sans coordonnées de mairie dans le fichier, "
                                 "rattachées à aucune unité par la distance")


def _entry(u: _Unit, mapping: dict, plan: ImportPlan, sid: str, all_situations: tuple[str, ...]) -> dict:
    r, spec, label = u.record, mapping["types"][u.type], _text(u.record.get("nom"))
    phones = []
    for p in _list(r.get("telephone")):
        number = _text(p.get("valeur") if isinstance(p, dict) else p)
        if not number:
            continue
        try:
            phones.append({"number": parse_phone(number).number, "type": "voice"})
        except DirectoryError:
            plan.warnings.append(f"{label} : numéro « {number} » illisible, ignoré")
    url = next((_text(s.get("valeur") if isinstance(s, dict) else s) for s in _list(r.get("site_internet"))
                if _text(s.get("valeur") if isinstance(s, dict) else s)), None) or _text(r.get("url_service_public"))
    if url and not re.match(r"^https?://\S+$", url):
        url = "https://" + url if re.match(r"^[\w.-]+\.[a-z]{2,}(/\S*)?$", url) else None
    email = next((e.strip() for e in _list(r.get("adresse_courriel")) if isinstance(e, str) and e.strip()), None)
    if email and not EMAIL_RE.match(email):
        plan.warnings.append(f"{label} : adresse e-mail « {email} » illisible, ignorée")
        email = None
    a = _physical_address(r)
    address = None
    if a:
        street = " ".join(x for x in (_text(a.get("numero_voie")), _text(a.get("complement1"))) if x) or None
        postal = _text(a.get("code_postal")) or None
        address = {"street": street, "postal_code": postal if postal and re.fullmatch(r"\d{5}", postal) else None,
                   "city": _text(a.get("nom_commune")) or None}
        if not any(address.values()):
            address = None
    situations = all_situations if spec["situations"] == "all" else list(spec["situations"])
    return {
        "id": sid, "name": " ".join(label.split()), "organization": spec.get("organization"),
        "category": spec["category"], "description": " ".join(spec["description"].split()), "phones": phones,
        "url": url or None, "email": email,
        "situations": sorted(situations),
        "publics": {"ages": [], "roles": [], "genders": []},
        "area": sorted(f"commune-{c}" for c in u.area), "address": address, "confidential_address": False,
        "hours": opening_hours(r.get("plage_ouverture"), plan.warnings, label), "visibility": "public",
        "cost": None, "emergency": False, "access": None, "source": plan.source["id"],
        "verified_on": _iso_date(r.get("date_modification")) or plan.file_date, "a_verifier": False,
    }


def _records_of(directory: Directory, source: str) -> dict[str, dict]:
    """external id -> {service_id, external_type, entry} of the entries a previous import wrote."""
    return {r["external_id"]: {**r, "entry": json.loads(r["entry"])} for r in directory.db.query(
        "SELECT * FROM import_record WHERE source = ?", [source])}


def _compare(directory: Directory, units: list[_Unit], mapping: dict, plan: ImportPlan) -> None:
    snap = directory.snapshot
    previous = _records_of(directory, plan.source["id"])
    taken = set(snap.services)
    territories = set(snap.territories)
    sources = directory.source_ids() | {plan.source["id"]}
    situations = tuple(directory.vocabulary.situations)
    for u in sorted(units, key=lambda u: (_text(u.record.get("nom")), u.external_id)):
        label = _text(u.record.get("nom"))
        if not u.area:
            plan.warnings.append(f"{label} : aucune commune de l'annuaire desservie, ignorée")
            continue
        before = previous.get(u.external_id)
        current = _fresh(directory, before["service_id"]) if before else None
        if current is not None:
            sid = current.id
        else:
            base = _slug(label) or u.type
            sid, n = base, 1
            while sid in taken:
                n += 1
                sid = f"{base}-{n}"
        taken.add(sid)
        incoming = _entry(u, mapping, plan, sid, situations)
        file_view = {k: incoming.get(k) for k in MANAGED}
        if current is not None and current.status != "active":
            plan.warnings.append(f"{sid} : archivée par l'équipe, laissée telle quelle")
            continue
        entry = incoming if current is None else _merge(service_entry(current), before["entry"], incoming, plan)
        row, problems = validate_service(entry, directory.vocabulary, territories, sources, plan.file)
        if problems:
            plan.warnings += [f"{label} : {p.field or 'fiche'} : {p.message} ; unité ignorée" for p in problems]
            continue
        if current is None:
            plan.added.append(Planned(row, file_view, u.external_id, u.type))
            continue
        changes = tuple((k, v, entry.get(k)) for k, v in service_entry(current).items()
                        if k != "id" and v != entry.get(k))
        (plan.changed if changes else plan.unchanged).append(Planned(row, file_view, u.external_id, u.type, changes))
    in_file = {u.external_id for u in units}
    for ext, rec in previous.items():
        s = snap.services.get(rec["service_id"])
        if ext not in in_file and rec["external_type"] in plan.types and s is not None and s.status == "active":
            plan.removed.append((s.id, s.name))


def _merge(current: dict, last: dict, incoming: dict, plan: ImportPlan) -> dict:
    """The entry to write: the file's value for each managed field, except where staff
    changed it since the last import and the file would overwrite it (a conflict)."""
    merged = dict(current)
    for name in MANAGED:
        new, now, was = incoming.get(name), current.get(name), last.get(name)
        if name == "verified_on":  # a staff check ("vérifié aujourd'hui") is newer, not a conflict
            merged[name] = max(str(now or ""), str(new or "")) or None
        elif new == now:
            continue
        elif now != was:
            plan.conflicts.append(Conflict(current["id"], name, now, new))
        else:
            merged[name] = new
    return merged


# -- applying it ---------------------------------------------------------------------------------
def apply_import(directory: Directory, plan: ImportPlan, username: str) -> dict[str, int]:
    """Write the plan in one transaction, every change audited under `username`."""
    db = directory.db
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    def remember(p: Planned) -> None:
        # an entry removed since by staff (CSV import, reload) leaves a stale row: replace it
        db.execute("DELETE FROM import_record WHERE source = ? AND external_id = ? AND service_id != ?",
                   [plan.source["id"], p.external_id, p.id])
        db.execute("INSERT INTO import_record (service_id, source, external_id, external_type, entry, imported_at) "
                   "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(service_id) DO UPDATE SET external_id = excluded.external_id, "
                   "external_type = excluded.external_type, entry = excluded.entry, imported_at = excluded.imported_at",
                   [p.id, plan.source["id"], p.external_id, p.type,
                    json.dumps(p.file, ensure_ascii=False, sort_keys=True), now])

    with write_transaction(db):
        db["source"].upsert({k: plan.source.get(k) for k in ("id", "title", "url", "date")}, pk="id")
        for p in plan.added:
            write_service(directory, p.row, None, username)
            remember(p)
        for p in plan.changed:
            write_service(directory, p.row, _fresh(directory, p.id), username)
            close_signals(db, p.id, "modifiee", username)
            remember(p)
        for p in plan.unchanged:
            remember(p)
        for sid, _ in plan.removed:
            db.execute("UPDATE service SET status = 'archived', version = version + 1 WHERE id = ?", [sid])
            _audit(db, username, sid, "archivage", "status", "active", "archived")
            close_signals(db, sid, "archivee", username)
    directory.invalidate()
    db.execute("ANALYZE")
    return plan.counts()
