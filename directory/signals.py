"""Verification campaigns: signals on entries, and what staff see per territory.

A *signal* says that something about an entry may be wrong: what was reported, by
whom (`veille`: a watch of public sources; `import`: an import), the source's URL
and date. A signal may also be about a service that is not in the directory yet
(`service_id` NULL; `subject` and `territory_id` say which and where): a watch can
name a new place without any way to reach it, and an entry with no way in must
not be shown to the public. Anonymous "signaler une erreur" reports
(`error_report`, see editing.report_error) are signals too, from the public.

Signals are for staff only: no public page, API or export reads this module.
They close when staff verify, edit or archive the entry (editing.py calls
`close_signals` in the same transaction), or by hand for a service not in the
directory.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import sqlite_utils

from .db import write_transaction
from .errors import DirectoryError
from .repository import Directory, Territory
from .services import Service

__all__ = ["SignalError", "REPORTERS", "CLOSED_HOW", "add_signal", "close_signals", "close_signal", "open_signals",
           "CampaignItem", "Campaign", "campaign", "WIDE"]

REPORTERS = {"veille": "Veille documentaire", "import": "Import de données", "public": "Une personne (signalement)",
             "equipe": "L'équipe"}
CLOSED_HOW = {"verifiee": "fiche vérifiée", "modifiee": "fiche modifiée", "archivee": "fiche archivée",
              "traite": "traité"}
WIDE = "_wide"  # the group of entries that cover the whole département or the country


class SignalError(DirectoryError):
    code = "invalid_signal"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def add_signal(db: sqlite_utils.Database, *, subject: str, what: str, reporter: str, ref: str,
               service_id: str | None = None, territory_id: str | None = None, source_url: str | None = None,
               source_date: str | None = None, confidence: str | None = None) -> bool:
    """Record one signal; False when the same one (ref, subject) is already there, open or closed."""
    if reporter not in REPORTERS:
        raise SignalError(f"auteur « {reporter} » inconnu (possibles : {', '.join(REPORTERS)})", field="reporter")
    if not (subject or "").strip() or not (what or "").strip():
        raise SignalError("un signalement doit dire de quoi il s'agit et ce qui est signalé", field="what")
    cur = db.execute(
        "INSERT OR IGNORE INTO signal (service_id, subject, territory_id, what, reporter, source_url, source_date, "
        "confidence, ref, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [service_id, subject.strip(), territory_id, what.strip(), reporter, source_url, source_date, confidence,
         ref, _now()])
    return cur.rowcount == 1


def close_signals(db: sqlite_utils.Database, service_id: str, how: str, username: str) -> int:
    """Close every open signal and public report of an entry (inside the caller's transaction)."""
    now = _now()
    n = db.execute("UPDATE signal SET closed_at = ?, closed_by = ?, closed_how = ? "
                   "WHERE service_id = ? AND closed_at IS NULL", [now, username, how, service_id]).rowcount
    n += db.execute("UPDATE error_report SET resolved_at = ?, resolved_by = ? "
                    "WHERE service_id = ? AND resolved_at IS NULL", [now, username, service_id]).rowcount
    return n


def close_signal(directory: Directory, signal_id: int, username: str) -> dict:
    """Close one open signal by hand ("traité"); returns it. For services not in the directory."""
    db = directory.db
    with write_transaction(db):
        rows = [dict(r) for r in db.query("SELECT * FROM signal WHERE id = ? AND closed_at IS NULL", [signal_id])]
        if not rows:
            raise SignalError("signalement introuvable ou déjà traité", code="not_found", field="id")
        signal = rows[0]
        db.execute("UPDATE signal SET closed_at = ?, closed_by = ?, closed_how = 'traite' WHERE id = ?",
                   [_now(), username, signal_id])
        from .editing import _audit  # editing imports this module

        _audit(db, username, signal["service_id"] or f"signal:{signal_id}", "signalement traité", "signal",
               None, signal["subject"])
    return signal


def open_signals(directory: Directory, service_id: str | None = None) -> list[dict]:
    """Open signals (of one entry, or all, those about no entry included), oldest first."""
    where, params = ("AND service_id = ?", [service_id]) if service_id else ("", [])
    return [dict(r) for r in directory.db.query(
        f"SELECT * FROM signal WHERE closed_at IS NULL {where} ORDER BY id", params)]


# -- the campaign: per territory, entries by age of verification, with their signals ------------------
@dataclass(frozen=True)
class CampaignItem:
    service: Service
    signals: tuple[dict, ...] = ()  # open signal rows
    reports: tuple[dict, ...] = ()  # open public reports
    stale: bool = False  # not verified for longer than the campaign's months

    @property
    def flagged(self) -> bool:
        return bool(self.signals or self.reports)

    @property
    def reachable(self) -> bool:
        return self.service.reachable


@dataclass
class Campaign:
    territories: list[tuple[str, str, int]]  # (id, name, number of entries to look at)
    territory: str | None
    items: list[CampaignItem] = field(default_factory=list)
    unlisted: list[dict] = field(default_factory=list)  # open signals about services not in the directory
    months: int = 6


def _groups(directory: Directory) -> tuple[dict[str, set[str]], dict[str, Territory]]:
    """Entry id -> the arrondissement-level territories it serves (WIDE for département or national)."""
    snap = directory.snapshot
    arrondissements = {t.id: t for t in snap.territories.values() if t.kind == "arrondissement"}
    wide_kinds = {"departement", "national"}
    commune_arr: dict[str, set[str]] = {}
    for insee, tids in snap.commune_territories.items():
        commune_arr[insee] = {t for t in tids if t in arrondissements}
    territory_arr: dict[str, set[str]] = {}
    for insee, tids in snap.commune_territories.items():
        for t in tids:
            territory_arr.setdefault(t, set()).update(commune_arr[insee])
    groups: dict[str, set[str]] = {}
    for s in snap.services.values():
        found: set[str] = set()
        for t in s.area:
            territory = snap.territories.get(t)
            if territory is None or territory.kind in wide_kinds:
                found.add(WIDE)
            else:
                found |= territory_arr.get(t, set())
        groups[s.id] = found or {WIDE}
    return groups, arrondissements


def _territory_group(directory: Directory, territory_id: str | None, arrondissements: dict) -> set[str]:
    if not territory_id:
        return {WIDE}
    snap = directory.snapshot
    if territory_id in arrondissements:
        return {territory_id}
    found: set[str] = set()
    for insee, tids in snap.commune_territories.items():
        if territory_id in tids:
            found |= {t for t in tids if t in arrondissements}
    return found or {WIDE}


def campaign(directory: Directory, territory: str | None = None, months: int = 6,
             today: date | None = None) -> Campaign:
    """What staff check in one territory (an arrondissement id, WIDE, or None for all):
    the active entries with open signals or reports first, then the unreachable ones,
    then the others from the longest unverified, each with its signals; and the open
    signals about services not in the directory."""
    today = today or date.today()
    limit = (today - timedelta(days=round(months * 30.44))).isoformat()
    groups, arrondissements = _groups(directory)
    if territory is not None and territory != WIDE and territory not in arrondissements:
        raise SignalError(f"territoire « {territory} » inconnu (choisissez un arrondissement)", field="territoire")
    signals: dict[str | None, list[dict]] = {}
    for row in open_signals(directory):
        signals.setdefault(row["service_id"], []).append(row)
    reports: dict[str, list[dict]] = {}
    from .editing import open_reports  # editing imports this module

    for row in open_reports(directory):
        reports.setdefault(row["service_id"], []).append(row)
    items, counts = [], {}
    for s in directory.snapshot.services.values():
        if s.status != "active":
            continue
        item = CampaignItem(s, tuple(signals.get(s.id, ())), tuple(reports.get(s.id, ())),
                            stale=not s.verified_on or s.verified_on < limit)
        if not (item.flagged or item.stale or not item.reachable):
            continue
        for g in groups[s.id]:
            counts[g] = counts.get(g, 0) + 1
        if territory is None or territory in groups[s.id]:
            items.append(item)
    items.sort(key=lambda i: (not i.flagged, i.reachable, i.service.verified_on or "", i.service.id))
    unlisted = []
    for row in signals.get(None, ()):
        where = _territory_group(directory, row["territory_id"], arrondissements)
        for g in where:
            counts[g] = counts.get(g, 0) + 1
        if territory is None or territory in where:
            unlisted.append(row)
    names = sorted(((t.id, t.name) for t in arrondissements.values()), key=lambda x: x[1])
    options = [(tid, name, counts.get(tid, 0)) for tid, name in names]
    options.append((WIDE, "Tout le département et national", counts.get(WIDE, 0)))
    return Campaign(options, territory, items, unlisted, months)
