"""The verification queue (/admin/verification) and the error reports it lists."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from directory.editing import REPORT_KINDS, EditError, resolve_report, verification_queue
from directory.staff import StaffUser

from .staff import StaffRoute, as_editeur, redirect, render, safe_next, with_ok

__all__ = ["router"]

router = APIRouter(prefix="/admin", route_class=StaffRoute, include_in_schema=False)


@router.get("/verification", response_class=HTMLResponse)
async def queue_page(request: Request, user: StaffUser = Depends(as_editeur)):
    months = request.app.state.settings.verify_months
    items = verification_queue(request.app.state.directory, months=months)
    return render(request, "admin/verification.html", {"items": items, "months": months,
                                                       "report_kinds": REPORT_KINDS,
                                                       "ok": request.query_params.get("ok")})


@router.post("/reports/{report_id}/resolve")
async def report_resolve(request: Request, report_id: int = Path(ge=1, le=2**62), user: StaffUser = Depends(as_editeur)):
    try:
        resolve_report(request.app.state.directory, report_id, user.username)
    except EditError as exc:
        return render(request, "admin/denied.html", {"message": exc.problems[0].message[:1].upper()
                                                     + exc.problems[0].message[1:] + ".",
                                                     "back": "/admin/verification"}, status=404)
    back = safe_next(str((await request.form()).get("next") or ""), "/admin/verification")
    return redirect(with_ok(back, "resolved"))
