"""Staff pages of the entries (/admin, /admin/services/...): the list, create, edit,
archive, "vérifié aujourd'hui" and temporary closures.

Every change goes through directory.editing, which validates it, refuses a
concurrent edit (the `version` column) and writes the audit rows in the same
transaction. Forms work without JavaScript: POST, then a 303 to a page that says
what happened (`?ok=<code>`, worded in the templates).
"""
from __future__ import annotations

import json
from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from directory import fold
from directory.editing import (REPORT_KINDS, Conflict, EditError, add_closure, archive_service, audit_of,
                               open_reports, save_service, service_entry, verify_service)
from directory.errors import NotFound
from directory.signals import REPORTERS, open_signals
from directory.staff import StaffUser

from .admin_forms import (all_problems, choices, entry_from_values, phone_rows_invalid, values_from_entry,
                          values_from_form)
from .staff import StaffRoute, as_editeur, redirect, render, safe_next, with_ok

__all__ = ["router", "service_or_none", "not_found"]

router = APIRouter(prefix="/admin", route_class=StaffRoute, include_in_schema=False)


def service_or_none(request: Request, sid: str):
    """The entry (pro-only and archived included), or None."""
    try:
        return request.app.state.directory.service(sid, include_pro=True)
    except NotFound:
        return None


def not_found(request: Request) -> HTMLResponse:
    return render(request, "admin/denied.html", {"message": "Cette fiche n'existe pas (ou plus).",
                                                 "back": "/admin"}, status=404)


@router.get("", response_class=HTMLResponse)
async def services_list(request: Request, user: StaffUser = Depends(as_editeur)):
    directory, p = request.app.state.directory, request.query_params
    f = {"q": p.get("q", "").strip()[:100], "category": p.get("category", ""), "visibility": p.get("visibility", ""),
         "status": p.get("status", "active"), "a_verifier": p.get("a_verifier", "")}
    words = fold(f["q"]).split()
    rows = []
    for s in sorted(directory.snapshot.services.values(), key=lambda s: fold(s.name)):
        text = fold(" ".join((s.id, s.name, s.organization or "")))
        if (all(w in text for w in words) and f["category"] in ("", s.category)
                and f["visibility"] in ("", s.visibility) and f["status"] in ("", s.status)
                and (f["a_verifier"] != "1" or s.a_verifier)):
            rows.append(s)
    return render(request, "admin/services.html", {"services": rows, "filters": f,
                                                   "categories": directory.vocabulary.categories,
                                                   "ok": p.get("ok")})


def _edit_page(request, *, values, errors=None, service=None, conflict=None, closure_errors=None,
               closure_values=None, status=200) -> HTMLResponse:
    directory = request.app.state.directory
    ctx = {"values": values, "errors": errors or {}, "service": service, "conflict": conflict,
           "phone_invalid": phone_rows_invalid(values) if errors and "phones" in errors else [],
           "closure_errors": closure_errors or {}, "closure_values": closure_values or {},
           "ok": request.query_params.get("ok"), **choices(directory)}
    if service is not None:
        ctx["reports"] = open_reports(directory, service.id)
        ctx["signals"] = open_signals(directory, service.id)
        ctx["reporters"] = REPORTERS
        ctx["recent"] = list(reversed(audit_of(directory, service.id)))[:5]
        ctx["report_kinds"] = REPORT_KINDS
        ctx["today"] = date.today().isoformat()
    return render(request, "admin/service_form.html", ctx, status=status)


@router.get("/services/new", response_class=HTMLResponse)
async def service_new(request: Request, user: StaffUser = Depends(as_editeur)):
    values = values_from_entry({"verified_on": date.today().isoformat(), "visibility": "public"}, None)
    return _edit_page(request, values=values)


@router.post("/services/new")
async def service_create(request: Request, user: StaffUser = Depends(as_editeur)):
    directory = request.app.state.directory
    values = values_from_form(await request.form())
    values["version"] = ""
    entry, early = entry_from_values(directory, values)
    if early:
        return _edit_page(request, values=values, errors=all_problems(directory, entry, early), status=422)
    try:
        s = save_service(directory, entry, version=None, username=user.username)
    except EditError as exc:
        return _edit_page(request, values=values, errors=exc.by_field(), status=422)
    return redirect(f"/admin/services/{s.id}?ok=created")


@router.get("/services/{sid}", response_class=HTMLResponse)
async def service_edit(request: Request, sid: str, user: StaffUser = Depends(as_editeur)):
    s = service_or_none(request, sid)
    if s is None:
        return not_found(request)
    return _edit_page(request, values=values_from_entry(service_entry(s), s.version), service=s)


@router.post("/services/{sid}")
async def service_save(request: Request, sid: str, user: StaffUser = Depends(as_editeur)):
    directory = request.app.state.directory
    s = service_or_none(request, sid)
    if s is None:
        return not_found(request)
    values = values_from_form(await request.form())
    values["id"] = sid  # the address names the entry; an id field cannot retarget the save
    try:
        version = int(values["version"])
    except ValueError:
        version = -1  # no version sent: treated as a conflict, never as an overwrite
    entry, early = entry_from_values(directory, values)
    if early:
        return _edit_page(request, values=values, errors=all_problems(directory, entry, early), service=s, status=422)
    try:
        save_service(directory, entry, version=version, username=user.username)
    except EditError as exc:
        return _edit_page(request, values=values, errors=exc.by_field(), service=s, status=422)
    except Conflict as exc:
        last = next(iter(reversed(audit_of(directory, sid))), None)
        values["version"] = str(directory.version_of(sid))
        changes = [(f, json.dumps(mine, ensure_ascii=False), json.dumps(now, ensure_ascii=False))
                   for f, mine, now in exc.changes]
        return _edit_page(request, values=values, service=service_or_none(request, sid), status=409,
                          conflict={"changes": changes, "last": last})
    return redirect(f"/admin/services/{sid}?ok=saved")


@router.post("/services/{sid}/archive")
async def service_archive(request: Request, sid: str, user: StaffUser = Depends(as_editeur)):
    if service_or_none(request, sid) is None:
        return not_found(request)
    archive_service(request.app.state.directory, sid, user.username)
    back = safe_next(str((await request.form()).get("next") or ""), f"/admin/services/{sid}")
    return redirect(with_ok(back, "archived"))


@router.post("/services/{sid}/verify")
async def service_verify(request: Request, sid: str, user: StaffUser = Depends(as_editeur)):
    if service_or_none(request, sid) is None:
        return not_found(request)
    verify_service(request.app.state.directory, sid, user.username)
    back = safe_next(str((await request.form()).get("next") or ""), f"/admin/services/{sid}")
    return redirect(with_ok(back, "verified"))


@router.post("/services/{sid}/closures")
async def service_closure(request: Request, sid: str, user: StaffUser = Depends(as_editeur)):
    directory = request.app.state.directory
    s = service_or_none(request, sid)
    if s is None:
        return not_found(request)
    form = await request.form()
    closure = {k: str(form.get(k) or "").strip() for k in ("start", "end", "reason")}
    errors = {}
    if len(closure["reason"]) > 200:
        errors["reason"] = ["texte trop long (200 caractères au plus)."]
    if not errors:
        try:
            add_closure(directory, sid, closure["start"], closure["end"], closure["reason"] or None, user.username)
            return redirect(f"/admin/services/{sid}?ok=closure#closures")
        except EditError as exc:
            errors = exc.by_field()
    return _edit_page(request, values=values_from_entry(service_entry(s), s.version), service=s,
                      closure_errors=errors, closure_values=closure, status=422)
