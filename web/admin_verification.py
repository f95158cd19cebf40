"""The verification campaign (/admin/verification): per territory, the entries with
their signals and reports first, then those nobody can reach, then the oldest
verified; and the signals about services not in the directory. An entry's signals
close when staff verify, edit or archive it; a signal about no entry, or a public
report, can also be closed by hand."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from directory.editing import REPORT_KINDS, UNREACHABLE, EditError, resolve_report
from directory.signals import CLOSED_HOW, REPORTERS, WIDE, SignalError, campaign, close_signal
from directory.staff import StaffUser

from .staff import StaffRoute, as_editeur, redirect, render, safe_next, with_ok

__all__ = ["router"]

router = APIRouter(prefix="/admin", route_class=StaffRoute, include_in_schema=False)


def _refused(request: Request, message: str) -> HTMLResponse:
    return render(request, "admin/denied.html", {"message": message[:1].upper() + message[1:] + ".",
                                                 "back": "/admin/verification"}, status=404)


@router.get("/verification", response_class=HTMLResponse)
async def queue_page(request: Request, user: StaffUser = Depends(as_editeur)):
    months = request.app.state.settings.verify_months
    territory = request.query_params.get("territoire") or None
    try:
        found = campaign(request.app.state.directory, territory, months)
    except SignalError as exc:
        return _refused(request, exc.message)
    return render(request, "admin/verification.html", {
        "campaign": found, "items": found.items, "months": months, "report_kinds": REPORT_KINDS,
        "reporters": REPORTERS, "closed_how": CLOSED_HOW, "wide": WIDE, "unreachable": UNREACHABLE,
        "here": request.url.path + (f"?territoire={territory}" if territory else ""),
        "ok": request.query_params.get("ok")})


@router.post("/reports/{report_id}/resolve")
async def report_resolve(request: Request, report_id: int = Path(ge=1, le=2**62), user: StaffUser = Depends(as_editeur)):
    try:
        resolve_report(request.app.state.directory, report_id, user.username)
    except EditError as exc:
        return _refused(request, exc.problems[0].message)
    back = safe_next(str((await request.form()).get("next") or ""), "/admin/verification")
    return redirect(with_ok(back, "resolved"))


@router.post("/signals/{signal_id}/close")
async def signal_close(request: Request, signal_id: int, user: StaffUser = Depends(as_editeur)):
    try:
        close_signal(request.app.state.directory, signal_id, user.username)
    except SignalError as exc:
        return _refused(request, exc.message)
    back = safe_next(str((await request.form()).get("next") or ""), "/admin/verification")
    return redirect(with_ok(back, "signal_closed"))
