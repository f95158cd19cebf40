"""The services of the directory as ONE CSV file, for staff: export, edit in a spreadsheet, import.

This is a staff export, NOT open data: it keeps everything, pro-only services and
confidential addresses included. Never publish it; the public export is `hsds.export`.

Format: UTF-8 (a BOM written by a spreadsheet is accepted on import), comma
separated, one row per service sorted by id, columns in `CSV_COLUMNS` order.
Lists are joined with " | "; a phone is its digits, prefixed by its type when it
is not a voice line ("sms:114"); booleans are `true`/`false`; empty = none.

Import checks every row with `loader.validate_service` (the same rules as
data/services.yaml), collects every problem with its line and field, and writes
nothing unless all rows are valid; then it replaces the services (never the
communes, territories or sources) in one transaction.
"""
from __future__ import annotations

import csv
from pathlib import Path

import sqlite_utils

from .db import write_transaction
from .errors import DirectoryError, LoadError, Problem
from .loader import TABLES_IN_DELETE_ORDER, service_rows, validate_service
from .repository import Directory
from .schema import migrate
from .services import Service
from .vocabulary import DATA_DIR, load_vocabulary
from .yamlio import LineDict

__all__ = ["CSV_COLUMNS", "SEPARATOR", "export_csv", "read_csv", "import_csv"]

CSV_COLUMNS = (
    "id", "name", "organization", "category", "description", "phones", "url", "situations",
    "publics_ages", "publics_roles", "area", "address_street", "address_postal_code", "address_city",
    "confidential_address", "hours", "visibility", "cost", "emergency", "access", "source",
    "verified_on", "a_verifier",
)
SEPARATOR = " | "
# The service side of the schema, children first: what an import deletes then refills.
SERVICE_TABLES = TABLES_IN_DELETE_ORDER[: TABLES_IN_DELETE_ORDER.index("organization") + 1]
_BOOLEANS = {"true": True, "false": False, "oui": True, "non": False}


def _join(values) -> str:
    return SEPARATOR.join(values)


def _row(s: Service, source_id: str | None) -> list[str]:
    address = s.address or {}
    phones = [p.number if p.type == "voice" else f"{p.type}:{p.number}" for p in s.phones]
    values = {
        "id": s.id, "name": s.name, "organization": s.organization, "category": s.category,
        "description": s.description, "phones": _join(phones), "url": s.url,
        "situations": _join(sorted(s.situations)), "publics_ages": _join(s.ages), "publics_roles": _join(s.roles),
        "area": _join(sorted(s.area)), "address_street": address.get("street"),
        "address_postal_code": address.get("postal_code"), "address_city": address.get("city"),
        "confidential_address": s.confidential_address, "hours": s.hours, "visibility": s.visibility,
        "cost": s.cost, "emergency": s.emergency, "access": s.access, "source": source_id,
        "verified_on": s.verified_on, "a_verifier": s.a_verifier,
    }
    return ["" if v is None else ("true" if v is True else "false" if v is False else str(v))
            for v in (values[c] for c in CSV_COLUMNS)]


def export_csv(directory: Directory, path: str | Path) -> int:
    """Write every service (pro-only and confidential included) to `path`; return how many."""
    sources = dict(directory.db.execute("SELECT id, source_id FROM service").fetchall())
    services = sorted(directory.snapshot.services.values(), key=lambda s: s.id)
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_row(s, sources.get(s.id)) for s in services)
    return len(services)


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split("|") if part.strip()]


def _phone(part: str) -> str | dict:
    kind, sep, number = part.partition(":")
    return {"number": number.strip(), "type": kind.strip()} if sep and kind.strip().isalpha() else part


def _entry(row: dict[str, str], line: int) -> LineDict:
    """The YAML-shaped entry of one CSV row, remembering its line for the validator's problems."""
    cell = {k: (row.get(k) or "").strip() for k in CSV_COLUMNS}
    text = {k: v or None for k, v in cell.items()}
    street, postal, city = text["address_street"], text["address_postal_code"], text["address_city"]
    entry = LineDict({
        "id": text["id"], "name": text["name"], "organization": text["organization"], "category": text["category"],
        "description": text["description"], "phones": [_phone(p) for p in _split(cell["phones"])],
        "url": text["url"], "situations": _split(cell["situations"]),
        "publics": {"ages": _split(cell["publics_ages"]), "roles": _split(cell["publics_roles"])},
        "area": _split(cell["area"]),
        "address": {"street": street, "postal_code": postal, "city": city} if street or postal or city else None,
        "hours": text["hours"], "visibility": text["visibility"], "cost": text["cost"], "access": text["access"],
        "source": text["source"], "verified_on": text["verified_on"],
    })
    for key in ("confidential_address", "emergency", "a_verifier"):
        # An unreadable value goes through as text, so the validator names it.
        entry[key] = _BOOLEANS.get(cell[key].lower(), cell[key]) if cell[key] else None
    entry.line = line
    entry.key_lines = {}
    return entry


def read_csv(path: str | Path, data_dir: Path, territory_ids: set[str], source_ids: set[str]) -> list[dict]:
    """Read and check every row; return the validated services or raise LoadError listing all problems."""
    path = Path(path)
    vocabulary = load_vocabulary(Path(data_dir))
    problems: list[Problem] = []
    services: list[dict] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = reader.fieldnames or []
            missing = [c for c in CSV_COLUMNS if c not in header]
            unknown = [c for c in header if c not in CSV_COLUMNS]
            if missing:
                problems.append(Problem("missing_column", path.name, None, ", ".join(missing),
                                        "colonne(s) manquante(s) dans la première ligne", 1))
            if unknown:
                problems.append(Problem("unknown_column", path.name, None, ", ".join(unknown),
                                        f"colonne(s) inconnue(s) (colonnes attendues : {', '.join(CSV_COLUMNS)})", 1))
            if problems:
                raise LoadError(problems)
            seen: dict[str, int] = {}
            line = reader.line_num + 1
            for row in reader:
                entry = _entry(row, line)
                service, found = validate_service(entry, vocabulary, territory_ids, source_ids, path.name)
                problems.extend(found)
                sid = entry["id"]
                if sid in seen:
                    problems.append(Problem("duplicate_id", path.name, sid, "id",
                                            f"identifiant déjà utilisé ligne {seen[sid]}", line))
                elif sid:
                    seen[sid] = line
                if service and not found:
                    services.append(service)
                line = reader.line_num + 1
    except FileNotFoundError:
        raise LoadError([Problem("missing_file", path.name, None, None, f"fichier {path} introuvable")]) from None
    except UnicodeDecodeError:
        raise LoadError([Problem("encoding", path.name, None, None, "le fichier n'est pas encodé en UTF-8")]) from None
    except csv.Error as exc:
        raise LoadError([Problem("csv_syntax", path.name, None, None, f"CSV illisible : {exc}")]) from None
    if problems:
        raise LoadError(problems)
    return services


def import_csv(db: sqlite_utils.Database, path: str | Path, data_dir: Path = DATA_DIR) -> dict[str, int]:
    """Replace the services with those of the CSV file, all or nothing; return the count."""
    migrate(db)
    territory_ids = {r[0] for r in db.execute("SELECT id FROM territory")}
    if not territory_ids:
        raise DirectoryError("l'annuaire n'a aucun territoire : chargez d'abord les données (orientation db load)",
                             code="empty_directory")
    source_ids = {r[0] for r in db.execute("SELECT id FROM source")}
    services = read_csv(path, data_dir, territory_ids, source_ids)
    merged: dict[str, list[dict]] = {table: [] for table in SERVICE_TABLES}
    for service in services:
        for table, rows in service_rows(service).items():
            merged[table].extend(rows)
    organizations = {o["id"]: o for o in merged["organization"]}
    merged["organization"] = list(organizations.values())
    vocabulary = load_vocabulary(Path(data_dir))
    terms = [{"id": f"situation:{code}", "taxonomy": "situation", "code": code, "name": s["label"]}
             for code, s in vocabulary.situations.items()]
    with write_transaction(db):
        for table in SERVICE_TABLES:
            db.execute(f"DELETE FROM [{table}]")
        db["taxonomy_term"].insert_all(terms, pk="id", replace=True)
        for table in reversed(SERVICE_TABLES):
            if merged[table]:
                db[table].insert_all(merged[table], batch_size=2000)
    db.execute("ANALYZE")
    return {"services": len(services)}
