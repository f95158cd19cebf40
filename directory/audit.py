"""The append-only audit log (table `audit_log`; triggers refuse updates and deletions).

Every change writes its rows with `record`, inside the change's own transaction:
no change without its trace, no trace without its change. Entries are a service id,
`compte:<username>` for staff accounts, or `annuaire` for a whole load or import.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

__all__ = ["record", "DIRECTORY_ENTRY"]

DIRECTORY_ENTRY = "annuaire"


def _dump(value) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def record(db, username: str, entry: str, action: str, field=None, before=None, after=None) -> None:
    db.execute("INSERT INTO audit_log (at, username, entry, action, field, before, after) VALUES (?, ?, ?, ?, ?, ?, ?)",
               [datetime.now(timezone.utc).isoformat(timespec="seconds"), username, entry, action, field,
                _dump(before), _dump(after)])
