"""The services of the directory as ONE CSV file, for staff: export, edit in a spreadsheet, import.

This is a staff export, NOT open data: it keeps everything, pro-only services and
confidential addresses included. Never publish it; the public export is `hsds.export`.

Format: UTF-8 (a BOM written by a spreadsheet is accepted on import), comma
separated, one row per service sorted by id, columns in `CSV_COLUMNS` order.
Lists are joined with " | "; a phone is its digits, prefixed by its type when it
is not a voice line ("sms:114"); booleans are `true`/`false`; empty = none.

Import checks every row with `loader.validate_service` (the same rules as
data/services.yaml and the staff forms) plus the `status` column, collects every
problem with its line and field, and writes nothing unless all rows are valid.
Then, in one transaction, it replaces the services (never the communes,
territories, sources, closures or reports), writes one audit row per change
(création, modification per field, suppression) like a staff edit, and bumps the
`version` of every changed service so an editor who opened it before the import
gets a conflict instead of overwriting it. `version` is a counter, not data: it
is not in the file.
"""
from __future__ import annotations

import csv
import re
from pathlib import Path

import sqlite_utils

from .audit import DIRECTORY_ENTRY, record
from .db import write_transaction
from .errors import DirectoryError, LoadError, Problem
from .editing import _audit, _diff, service_entry
from .loader import TABLES_IN_DELETE_ORDER, service_rows, validate_service
from .repository import Directory, _read_services
from .schema import migrate
from .services import Service
from .vocabulary import DATA_DIR, load_vocabulary
from .yamlio import LineDict

__all__ = ["CSV_COLUMNS", "SEPARATOR", "export_csv", "read_csv", "import_csv", "neutralise", "restore"]

CSV_COLUMNS = (
    "id", "name", "organization", "category", "description", "phones", "url", "email", "situations",
    "publics_ages", "publics_roles", "publics_genders", "area", "address_street", "address_postal_code", "address_city",
    "confidential_address", "hours", "visibility", "status", "cost", "emergency", "access", "source",
    "verified_on", "a_verifier", "languages",
)
# Statuses a service can have: `active`, or `archived` by a staff member (editing.archive_service).
STATUSES = ("active", "archived")
SEPARATOR = " | "
# The service side of the schema, children first: what an import deletes then refills.
SERVICE_TABLES = TABLES_IN_DELETE_ORDER[: TABLES_IN_DELETE_ORDER.index("organization") + 1]
_BOOLEANS = {"true": True, "false": False, "oui": True, "non": False}


# OWASP "CSV injection": a cell starting with = + - @ (or tab, carriage return) runs as a
# formula in a spreadsheet. Such cells get a leading apostrophe, which spreadsheets
# show as text; a cell that already starts with apostrophes before one of those
# characters gets one more, so that `restore` gives back exactly what was exported.
_FORMULA = re.compile(r"^'*[=+\-@\t\r]")


def neutralise(text: str) -> str:
    return "'" + text if _FORMULA.match(text) else text


def restore(text: str) -> str:
    return text[1:] if text.startswith("'") and _FORMULA.match(text) else text


def _join(values) -> str:
    return SEPARATOR.join(values)


def _row(s: Service) -> list[str]:
    entry = service_entry(s)  # the shape of data/services.yaml and of the staff forms
    address = entry.pop("address") or {}
    publics = entry.pop("publics")
    phones = [p["number"] if p["type"] == "voice" else f"{p['type']}:{p['number']}" for p in entry["phones"]]
    values = {
        **entry, "phones": _join(phones), "situations": _join(sorted(entry["situations"])),
        "publics_ages": _join(publics["ages"]), "publics_roles": _join(publics["roles"]),
        "publics_genders": _join(publics["genders"]), "languages": _join(entry["languages"]),
        "area": _join(sorted(entry["area"])), "address_street": address.get("street"),
        "address_postal_code": address.get("postal_code"), "address_city": address.get("city"), "status": s.status,
    }
    return [neutralise("" if v is None else ("true" if v is True else "false" if v is False else str(v)))
            for v in (values[c] for c in CSV_COLUMNS)]


def export_csv(directory: Directory, path: str | Path) -> int:
    """Write every service (pro-only, archived and confidential included) to `path`; return how many."""
    services = sorted(directory.snapshot.services.values(), key=lambda s: s.id)
    with Path(path).open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_row(s) for s in services)
    return len(services)


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split("|") if part.strip()]


def _phone(part: str) -> str | dict:
    kind, sep, number = part.partition(":")
    return {"number": number.strip(), "type": kind.strip()} if sep and kind.strip().isalpha() else part


def _entry(row: dict[str, str], line: int) -> LineDict:
    """The YAML-shaped entry of one CSV row, remembering its line for the validator's problems."""
    cell = {k: restore((row.get(k) or "").strip()) for k in CSV_COLUMNS}
    text = {k: v or None for k, v in cell.items()}
    street, postal, city = text["address_street"], text["address_postal_code"], text["address_city"]
    entry = LineDict({
        "id": text["id"], "name": text["name"], "organization": text["organization"], "category": text["category"],
        "description": text["description"], "phones": [_phone(p) for p in _split(cell["phones"])],
        "url": text["url"], "email": text["email"], "situations": _split(cell["situations"]),
        "publics": {"ages": _split(cell["publics_ages"]), "roles": _split(cell["publics_roles"]),
                    "genders": _split(cell["publics_genders"])},
        "area": _split(cell["area"]),
        "address": {"street": street, "postal_code": postal, "city": city} if street or postal or city else None,
        "hours": text["hours"], "visibility": text["visibility"], "cost": text["cost"], "access": text["access"],
        "source": text["source"], "verified_on": text["verified_on"], "languages": _split(cell["languages"]),
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
                status = (row.get("status") or "").strip() or "active"
                if status not in STATUSES:
                    found.append(Problem("invalid_status", path.name, entry["id"], "status",
                                         f"statut « {status} » inconnu (possibles : {', '.join(STATUSES)})", line))
                problems.extend(found)
                sid = entry["id"]
                if sid in seen:
                    problems.append(Problem("duplicate_id", path.name, sid, "id",
                                            f"identifiant déjà utilisé ligne {seen[sid]}", line))
                elif sid:
                    seen[sid] = line
                if service and not found:
                    services.append({**service, "status": status})
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


def _entries(db: sqlite_utils.Database) -> dict[str, tuple[dict, int]]:
    """Every stored service as (its entry with its status, its version)."""
    return {sid: ({**service_entry(s), "status": s.status}, s.version) for sid, s in _read_services(db).items()}


def _record_changes(db: sqlite_utils.Database, before: dict[str, tuple[dict, int]], username: str) -> dict[str, int]:
    """Audit what the import changed and give changed services their next version (inside the transaction)."""
    after = _entries(db)
    counts = {"created": 0, "changed": 0, "removed": 0}
    for sid, (entry, _) in after.items():
        if sid not in before:
            _audit(db, username, sid, "création", None, None, entry)
            counts["created"] += 1
            continue
        old, version = before[sid]
        changes = _diff(old, entry)
        for fld, was, now in changes:
            _audit(db, username, sid, "modification", fld, was, now)
        if (new_version := version + 1 if changes else version) != 1:  # inserted rows start at 1
            db.execute("UPDATE service SET version = ? WHERE id = ?", [new_version, sid])
        counts["changed"] += bool(changes)
    for sid, (entry, _) in before.items():
        if sid not in after:
            _audit(db, username, sid, "suppression", None, entry, None)
            counts["removed"] += 1
    return counts


def import_csv(db: sqlite_utils.Database, path: str | Path, data_dir: Path = DATA_DIR,
               username: str = "import-csv") -> dict[str, int]:
    """Replace the services with those of the CSV file, all or nothing, audited under `username`.

    Returns the number of services and of those created, changed and removed.
    """
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
        merged["service"][-1]["status"] = service["status"]
    merged["organization"] = list({o["id"]: o for o in merged["organization"]}.values())
    vocabulary = load_vocabulary(Path(data_dir))
    terms = [{"id": f"situation:{code}", "taxonomy": "situation", "code": code, "name": s["label"]}
             for code, s in vocabulary.situations.items()]
    with write_transaction(db):
        before = _entries(db)
        for table in SERVICE_TABLES:
            db.execute(f"DELETE FROM [{table}]")
        db["taxonomy_term"].insert_all(terms, pk="id", replace=True)
        for table in reversed(SERVICE_TABLES):
            if merged[table]:
                db[table].insert_all(merged[table], batch_size=2000)
        counts = _record_changes(db, before, username)
        record(db, username, DIRECTORY_ENTRY, "import csv", Path(path).name, None,
               {"services": len(services), **counts})
    db.execute("ANALYZE")
    return {"services": len(services), **counts}
