"""Staff changes to the directory: create, edit, archive, verify, close for a while.

Every change is validated with the loader's own rules (`validate_service`), refused
when the entry changed since the editor opened it (the `version` column), and
written together with its audit rows in one BEGIN IMMEDIATE transaction: there is
no change without its trace, and no trace without its change.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from .audit import record
from .db import write_transaction
from .errors import DirectoryError, Problem
from .loader import service_rows, validate_service
from .repository import Directory
from .services import Service
from .signals import close_signals

__all__ = ["EditError", "Conflict", "service_entry", "save_service", "write_service", "archive_service", "verify_service",
           "add_closure", "report_error", "resolve_report", "audit_of", "latest_audit", "open_reports",
           "verification_queue", "REPORT_KINDS"]

REPORT_KINDS = {"telephone": "Le numéro ne marche pas", "horaires": "Les horaires sont faux",
                "adresse": "L'adresse est fausse", "ferme": "Le service n'existe plus", "autre": "Autre erreur"}
_CHILD_TABLES = ("attribute", "service_area", "service_at_location", "address", "location", "schedule", "phone")


class EditError(DirectoryError):
    """Invalid input: `problems` say which field and why, in French. Nothing was saved."""

    code = "invalid_entry"

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(f"{p.field or 'entrée'} : {p.message}" for p in problems))

    def by_field(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for p in self.problems:
            out.setdefault(p.field or "_", []).append(p.message)
        return out


class Conflict(DirectoryError):
    """The entry was changed by someone else since it was opened; nothing was saved."""

    code = "conflict"

    def __init__(self, current: dict, changes: list[tuple[str, object, object]]):
        self.current = current
        self.changes = changes  # (field, what you started from, what is there now)
        fields = ", ".join(f for f, _, _ in changes) or "aucun champ"
        super().__init__(f"quelqu'un a modifié cette fiche pendant que vous l'éditiez (champs : {fields}) ; "
                         f"relisez la version actuelle avant d'enregistrer")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def service_entry(service: Service) -> dict:
    """A service in the shape of data/services.yaml: what forms, diffs and CSV show."""
    return {
        "id": service.id, "name": service.name, "organization": service.organization, "category": service.category,
        "description": service.description,
        "phones": [{"number": p.number, "type": p.type} for p in service.phones],
        "url": service.url, "email": service.email, "situations": list(service.situations),
        "publics": {"ages": list(service.ages), "roles": list(service.roles), "genders": list(service.genders)},
        "area": list(service.area), "address": service.address, "confidential_address": service.confidential_address,
        "hours": service.hours, "visibility": service.visibility, "cost": service.cost, "emergency": service.emergency,
        "access": service.access, "source": service.source_id, "verified_on": service.verified_on,
        "a_verifier": service.a_verifier, "languages": list(service.languages),
    }


def _diff(before: dict, after: dict) -> list[tuple[str, object, object]]:
    return [(k, before.get(k), after.get(k)) for k in after if k != "id" and before.get(k) != after.get(k)]


_audit = record  # the audit log's one writer (directory.audit)


def _fresh(directory: Directory, service_id: str) -> Service | None:
    from .repository import _read_services

    return _read_services(directory.db, "s.id = ?", (service_id,)).get(service_id)


def save_service(directory: Directory, entry: dict, *, version: int | None, username: str) -> Service:
    """Create (version None) or update (version = the one the editor started from).

    Saving an entry closes its open signals and reports: the editor looked at it."""
    snap = directory.snapshot
    row, problems = validate_service(entry, directory.vocabulary, set(snap.territories), directory.source_ids(),
                                     "formulaire")
    if problems:
        raise EditError(problems)
    sid = row["id"]
    with write_transaction(directory.db):
        current = _fresh(directory, sid)
        if version is None and current is not None:
            raise EditError([Problem("duplicate_id", "formulaire", sid, "id", "cet identifiant existe déjà")])
        if version is not None:
            if current is None:
                raise EditError([Problem("not_found", "formulaire", sid, "id", "cette fiche n'existe pas")])
            if current.version != version:
                raise Conflict(service_entry(current), _diff(entry, service_entry(current)))
        write_service(directory, row, current, username)
        if current is not None:
            close_signals(directory.db, sid, "modifiee", username)
    directory.invalidate()
    return directory.service(sid, include_pro=True)


def write_service(directory: Directory, row: dict, current: Service | None, username: str,
                  status: str | None = None) -> list[tuple[str, object, object]]:
    """Write one validated entry (`loader.validate_service`'s row) over `current` (None: create),
    with its audit rows; the caller holds the transaction and invalidates the snapshot.
    Returns the changes (field, before, after)."""
    db, sid = directory.db, row["id"]
    before = service_entry(current) if current else {}
    new_version = (current.version + 1) if current else 1
    for table in _CHILD_TABLES:
        key = "id" if table in ("location", "address") else "service_id"
        db.execute(f"DELETE FROM [{table}] WHERE [{key}] = ?", [sid])
    rows = service_rows(row)
    if rows["organization"]:
        db["organization"].upsert_all(rows["organization"], pk="id")
    values = {**rows["service"][0], "version": new_version,
              "status": status or (current.status if current else "active")}
    if current:
        db["service"].update(sid, values)
    else:
        db["service"].insert(values)
    for table in ("phone", "schedule", "location", "address", "service_at_location", "service_area", "attribute"):
        if rows[table]:
            db[table].insert_all(rows[table])
    after = service_entry(_fresh(directory, sid))
    if current is None:
        _audit(db, username, sid, "création", None, None, after)
        return [(k, None, v) for k, v in after.items() if k != "id"]
    changes = _diff(before, after)
    for field, old, new in changes:
        _audit(db, username, sid, "modification", field, old, new)
    return changes


def _set_status(directory: Directory, service_id: str, status: str, username: str, action: str) -> None:
    with write_transaction(directory.db):
        current = _fresh(directory, service_id)
        if current is None:
            raise EditError([Problem("not_found", "formulaire", service_id, "id", "cette fiche n'existe pas")])
        directory.db.execute("UPDATE service SET status = ?, version = version + 1 WHERE id = ?", [status, service_id])
        _audit(directory.db, username, service_id, action, "status", current.status, status)
        if status == "archived":
            close_signals(directory.db, service_id, "archivee", username)
    directory.invalidate()


def archive_service(directory: Directory, service_id: str, username: str) -> None:
    _set_status(directory, service_id, "archived", username, "archivage")


def verify_service(directory: Directory, service_id: str, username: str, today: date | None = None) -> None:
    """"Vérifié aujourd'hui": who verified which entry, and when."""
    today = (today or date.today()).isoformat()
    with write_transaction(directory.db):
        current = _fresh(directory, service_id)
        if current is None:
            raise EditError([Problem("not_found", "formulaire", service_id, "id", "cette fiche n'existe pas")])
        directory.db.execute("UPDATE service SET verified_on = ?, a_verifier = 0, version = version + 1 WHERE id = ?",
                             [today, service_id])
        directory.db.execute("INSERT INTO verification (service_id, username, at) VALUES (?, ?, ?)",
                             [service_id, username, _now()])
        _audit(directory.db, username, service_id, "vérification", "verified_on", current.verified_on, today)
        close_signals(directory.db, service_id, "verifiee", username)
    directory.invalidate()


def add_closure(directory: Directory, service_id: str, start: str, end: str, reason: str | None, username: str) -> None:
    try:
        d1, d2 = date.fromisoformat(start), date.fromisoformat(end)
    except (TypeError, ValueError):
        raise EditError([Problem("invalid_date", "formulaire", service_id, "start", "dates attendues au format AAAA-MM-JJ")]) from None
    if d2 < d1:
        raise EditError([Problem("invalid_date", "formulaire", service_id, "end", "la fin doit venir après le début")])
    with write_transaction(directory.db):
        if _fresh(directory, service_id) is None:
            raise EditError([Problem("not_found", "formulaire", service_id, "id", "cette fiche n'existe pas")])
        directory.db.execute("INSERT INTO service_closure (service_id, start, end, reason) VALUES (?, ?, ?, ?)",
                             [service_id, d1.isoformat(), d2.isoformat(), (reason or "").strip()[:200] or None])
        _audit(directory.db, username, service_id, "fermeture temporaire", "closure", None,
               {"start": d1.isoformat(), "end": d2.isoformat(), "reason": reason})
    directory.invalidate()


def report_error(directory: Directory, service_id: str, kind: str) -> None:
    """Anonymous "signaler une erreur": the entry and the kind of error, nothing else."""
    if kind not in REPORT_KINDS:
        raise EditError([Problem("invalid_kind", "signalement", service_id, "kind",
                                 f"type d'erreur inconnu (possibles : {', '.join(REPORT_KINDS)})")])
    if directory.snapshot.services.get(service_id) is None:
        raise EditError([Problem("not_found", "signalement", service_id, "service_id", "ce service n'existe pas")])
    with write_transaction(directory.db):
        directory.db.execute("INSERT INTO error_report (service_id, kind, at) VALUES (?, ?, ?)",
                             [service_id, kind, date.today().isoformat()])


def resolve_report(directory: Directory, report_id: int, username: str) -> None:
    with write_transaction(directory.db):
        row = directory.db.execute("SELECT service_id FROM error_report WHERE id = ? AND resolved_at IS NULL",
                                   [report_id]).fetchone()
        if row is None:
            raise EditError([Problem("not_found", "signalement", None, "id", "signalement introuvable ou déjà traité")])
        directory.db.execute("UPDATE error_report SET resolved_at = ?, resolved_by = ? WHERE id = ?",
                             [_now(), username, report_id])
        _audit(directory.db, username, row[0], "signalement traité", "report", None, report_id)


def audit_of(directory: Directory, entry: str | None = None) -> list[dict]:
    """The audit rows of one entry (or of all), oldest first."""
    where, params = ("WHERE entry = ?", [entry]) if entry else ("", [])
    return [dict(r) for r in directory.db.query(f"SELECT * FROM audit_log {where} ORDER BY id", params)]


def latest_audit(directory: Directory, limit: int) -> list[dict]:
    """The `limit` most recent audit rows, newest first."""
    return [dict(r) for r in directory.db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [limit])]


def open_reports(directory: Directory, service_id: str | None = None) -> list[dict]:
    """Error reports not dealt with yet (of one entry, or all), oldest first."""
    where, params = ("AND service_id = ?", [service_id]) if service_id else ("", [])
    return [dict(r) for r in directory.db.query(
        f"SELECT * FROM error_report WHERE resolved_at IS NULL {where} ORDER BY id", params)]


@dataclass(frozen=True)
class QueueItem:
    service: Service
    reason: str
    reports: tuple[dict, ...] = ()
    signals: tuple[dict, ...] = ()


UNREACHABLE = "injoignable : ni téléphone, ni SMS, ni site, ni e-mail, ni adresse avec horaires"


def verification_queue(directory: Directory, months: int = 6, today: date | None = None,
                       territory: str | None = None) -> list[QueueItem]:
    """Entries with open signals or reports first, then unreachable entries, then those
    not verified for more than `months` months (oldest first); `territory` narrows it to
    one arrondissement (signals.WIDE: the département-wide and national entries)."""
    from .signals import campaign

    items = []
    for item in campaign(directory, territory, months, today).items:
        s = item.service
        if item.flagged:
            reason = f"{len(item.reports) + len(item.signals)} signalement(s)"
        elif not item.reachable:
            reason = UNREACHABLE
        else:
            reason = f"vérifié le {s.verified_on or 'jamais'}"
        items.append(QueueItem(s, reason, item.reports, item.signals))
    return items
