"""The audit log for staff: the latest changes, one entry's journal, and the CSV export."""
from __future__ import annotations

import csv
import io
from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from directory.csvio import neutralise
from directory.editing import audit_of, latest_audit
from directory.staff import StaffUser

from .admin_services import not_found, service_or_none
from .staff import StaffRoute, as_editeur, render

__all__ = ["router", "AUDIT_PAGE"]

router = APIRouter(prefix="/admin", route_class=StaffRoute, include_in_schema=False)
AUDIT_PAGE = 300


@router.get("/services/{sid}/journal", response_class=HTMLResponse)
async def service_journal(request: Request, sid: str, user: StaffUser = Depends(as_editeur)):
    s = service_or_none(request, sid)
    if s is None:
        return not_found(request)
    rows = list(reversed(audit_of(request.app.state.directory, sid)))
    return render(request, "admin/audit.html", {"rows": rows, "service": s, "truncated": False})


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, user: StaffUser = Depends(as_editeur)):
    rows = latest_audit(request.app.state.directory, AUDIT_PAGE + 1)
    return render(request, "admin/audit.html", {"rows": rows[:AUDIT_PAGE], "service": None,
                                                "truncated": len(rows) > AUDIT_PAGE})


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (=, +, -, @ first)."""
    return neutralise("" if value is None else str(value))


@router.get("/audit.csv")
async def audit_csv(request: Request, user: StaffUser = Depends(as_editeur)):
    out = io.StringIO()
    writer = csv.writer(out)
    columns = ("id", "at", "username", "entry", "action", "field", "before", "after")
    writer.writerow(columns)
    for r in audit_of(request.app.state.directory):
        writer.writerow([_cell(r[c]) for c in columns])
    name = f"journal-annuaire-{date.today().isoformat()}.csv"
    # UTF-8 with a byte-order mark, so spreadsheets read the accents right.
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
