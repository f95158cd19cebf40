"""Staff administration (/admin): login, the services (list, create, edit, archive,
verify, temporary closures), the audit log and its CSV export, the verification
queue and the staff accounts.

Every route but the login form depends on `require(role)` (deny by default, CSRF
checked on every POST). Every change goes through directory.editing, which
validates it, refuses a concurrent edit and writes the audit rows in the same
transaction. Forms work without JavaScript: POST, then a redirect (303) to a page
that says what happened (`?ok=<code>`, worded in the templates).
"""
from __future__ import annotations

import csv
import io
import json
import logging
import os
import re
from datetime import date

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from directory import DirectoryError, fold, parse_phone
from directory.editing import (REPORT_KINDS, Conflict, EditError, add_closure, archive_service, audit_of,
                               resolve_report, save_service, service_entry, verify_service, verification_queue)
from directory.errors import NotFound
from directory.loader import validate_service
from directory.staff import (ROLES, StaffError, StaffUser, add_user, authenticate, close_session, disable_user,
                             open_session, set_password)

from .pro import resolve_commune_text
from .staff import (StaffRoute, check_same_site, clear_session_cookie, client_key, current_user, login_limiter,
                    render, require, safe_next, session_token, set_session_cookie)

__all__ = ["router", "verify_months", "VERIFY_MONTHS_ENV", "entry_from_values"]

router = APIRouter(prefix="/admin", route_class=StaffRoute, include_in_schema=False)
log = logging.getLogger("orientation.admin")
VERIFY_MONTHS_ENV = "ORIENTATION_VERIFY_MONTHS"
TEXT_LIMITS = {"id": 80, "name": 200, "organization": 200, "description": 4000, "url": 500, "email": 254, "hours": 300,
               "access": 500, "street": 200, "city": 100}
AUDIT_PAGE = 300
as_lecteur, as_editeur, as_admin = require("lecteur"), require("editeur"), require("admin")


def verify_months() -> int:
    """Months after which an entry goes back to the verification queue (default 6)."""
    raw = os.environ.get(VERIFY_MONTHS_ENV, "6")
    try:
        months = int(raw)
        if months < 1:
            raise ValueError
        return months
    except ValueError:
        log.warning("%s=%r is not a whole number of months (1 or more): using 6", VERIFY_MONTHS_ENV, raw)
        return 6


def _home(user: StaffUser) -> str:
    return "/admin" if user.can("editeur") else "/pro"


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _service_or_404(request: Request, sid: str):
    try:
        return request.app.state.directory.service(sid, include_pro=True)
    except NotFound:
        return None


def _not_found(request: Request) -> HTMLResponse:
    return render(request, "admin/denied.html", {"message": "Cette fiche n'existe pas (ou plus).",
                                                 "back": "/admin"}, status=404)


# -- login and logout ---------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request):
    user = current_user(request)
    target = request.query_params.get("next")
    if user is not None:
        return _redirect(safe_next(target, _home(user)))
    return render(request, "admin/login.html", {"next": safe_next(target, ""), "username": "",
                                                "logged_out": request.query_params.get("out") == "1"})


@router.post("/login")
async def login(request: Request):
    check_same_site(request)  # login CSRF: a form on another site cannot log you in
    form = await request.form()
    username = str(form.get("username") or "").strip()[:64]
    password = str(form.get("password") or "")[:1024]
    target = safe_next(str(form.get("next") or ""), "")
    limiter, client = login_limiter(request.app), client_key(request)
    ctx = {"next": target, "username": username}
    wait = limiter.retry_after(username, client)
    if wait:
        log.warning("login refused: too many failures")  # no name, no address
        minutes = max(1, round(wait / 60))
        return render(request, "admin/login.html", {**ctx, "error": "Trop de tentatives de connexion. Par sécurité, "
                      f"réessayez dans {minutes} minute{'s' if minutes > 1 else ''}."}, status=429)
    db = request.app.state.directory.db
    user = authenticate(db, username, password) if username and password else None
    if user is None:
        limiter.failed(username, client)
        return render(request, "admin/login.html", {**ctx, "error": "Identifiant ou mot de passe incorrect."}, status=401)
    limiter.succeeded(username)
    close_session(db, session_token(request))  # a fresh session at each login (no fixation)
    response = _redirect(target or _home(user))
    set_session_cookie(response, request, open_session(db, user))
    return response


@router.post("/logout")
async def logout(request: Request, user: StaffUser = Depends(as_lecteur)):
    close_session(request.app.state.directory.db, session_token(request))  # revoked on the server
    response = _redirect("/admin/login?out=1")
    clear_session_cookie(response, request)
    return response


# -- the services ---------------------------------------------------------------------------
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


def _choices(directory) -> dict:
    v = directory.vocabulary
    territories = sorted((t for t in directory.snapshot.territories.values() if t.kind != "commune"),
                         key=lambda t: (t.rank, t.name))
    return {"categories": v.categories, "situations": v.situations, "age_groups": v.age_groups, "genders": v.genders,
            "roles": {k: r for k, r in v.roles.items()},
            "sources": [dict(r) for r in directory.db.query("SELECT id, title FROM source ORDER BY title")],
            "territories": territories}


def values_from_entry(entry: dict, version: int | None) -> dict:
    """The form's values for a stored entry (see `entry_from_values` for the way back)."""
    address = entry.get("address") or {}
    return {
        **{k: entry.get(k) or "" for k in ("id", "name", "organization", "category", "description", "url",
                                           "email", "hours", "access", "source")},
        "phone_number": [p["number"] for p in entry.get("phones", [])],
        "phone_type": [p["type"] for p in entry.get("phones", [])],
        "situations": list(entry.get("situations", [])),
        "ages": list((entry.get("publics") or {}).get("ages", [])),
        "roles": list((entry.get("publics") or {}).get("roles", [])),
        "genders": list((entry.get("publics") or {}).get("genders", [])),
        "area": "\n".join(entry.get("area", [])),
        "street": address.get("street") or "", "postal_code": address.get("postal_code") or "",
        "city": address.get("city") or "",
        "confidential_address": bool(entry.get("confidential_address")),
        "visibility": entry.get("visibility") or "public", "cost": entry.get("cost") or "",
        "emergency": bool(entry.get("emergency")), "verified_on": str(entry.get("verified_on") or ""),
        "a_verifier": bool(entry.get("a_verifier")), "version": "" if version is None else str(version),
    }


def values_from_form(form) -> dict:
    """What the person typed, kept as typed to show the form again."""
    text = lambda k: str(form.get(k) or "")  # noqa: E731
    # Empty phone rows are dropped (the form always adds two blank ones).
    numbers, kinds = [str(x) for x in form.getlist("phone_number")], [str(x) for x in form.getlist("phone_type")]
    phones = [(n, kinds[i] if i < len(kinds) else "voice") for i, n in enumerate(numbers[:20]) if n.strip()]
    return {
        **{k: text(k).strip() for k in ("id", "name", "organization", "category", "url", "email", "hours", "access",
                                        "source", "street", "postal_code", "city", "visibility", "cost",
                                        "verified_on", "version")},
        "description": text("description").strip(), "area": text("area"),
        "phone_number": [n for n, _ in phones], "phone_type": [k for _, k in phones],
        "situations": [str(x) for x in form.getlist("situations")],
        "ages": [str(x) for x in form.getlist("ages")], "roles": [str(x) for x in form.getlist("roles")],
        "genders": [str(x) for x in form.getlist("genders")],
        "confidential_address": form.get("confidential_address") == "1",
        "emergency": form.get("emergency") == "1", "a_verifier": form.get("a_verifier") == "1",
    }


def _resolve_area(directory, raw: str) -> tuple[list[str], list[str]]:
    """Territory ids, territory names or communes (name, postal code), one per line or
    separated by commas: the territory ids, and a French problem for each unknown."""
    snap = directory.snapshot
    by_name = {fold(t.name): t.id for t in snap.territories.values() if t.kind != "commune"}
    prefixes = {tid.split("-", 1)[0] for tid in snap.territories if "-" in tid}
    ids, problems = [], []
    for token in (t.strip() for t in re.split(r"[\n,;]+", raw)):
        if not token:
            continue
        if token in snap.territories:
            found = token
        elif fold(token) in by_name:
            found = by_name[fold(token)]
        elif re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", token) and token.split("-", 1)[0] in prefixes:
            problems.append(f"« {token} » : territoire inconnu.")
            continue
        else:
            commune, _, candidates = resolve_commune_text(directory, token)
            if candidates:
                names = ", ".join(f"{c.name} ({c.insee})" for c in candidates[:5])
                problems.append(f"« {token} » : plusieurs communes possibles ({names}) ; écrivez commune-<code INSEE>.")
                continue
            if commune is None or f"commune-{commune.insee}" not in snap.territories:
                problems.append(f"« {token} » : commune ou territoire inconnu dans l'annuaire.")
                continue
            found = f"commune-{commune.insee}"
        if found not in ids:
            ids.append(found)
    return ids, problems


def entry_from_values(directory, values: dict) -> tuple[dict, dict[str, list[str]]]:
    """The entry to save (the shape of data/services.yaml) and the problems found before
    validation: lengths, postal code, area. `save_service` validates the rest."""
    problems: dict[str, list[str]] = {}
    for name, limit in TEXT_LIMITS.items():
        if len(values.get(name) or "") > limit:
            problems.setdefault("address" if name in ("street", "city") else name, []).append(
                f"texte trop long ({limit} caractères au plus).")
    phones = [{"number": n.strip(), "type": t if t in ("voice", "sms") else "voice"}
              for n, t in zip(values["phone_number"], values["phone_type"] + ["voice"] * 20) if n.strip()]
    area, area_problems = _resolve_area(directory, values["area"])
    if area_problems:
        problems["area"] = area_problems
    address = None
    if any(values[k] for k in ("street", "postal_code", "city")):
        address = {"street": values["street"] or None, "postal_code": values["postal_code"] or None,
                   "city": values["city"] or None}
        if values["postal_code"] and not re.fullmatch(r"\d{5}", values["postal_code"]):
            problems.setdefault("address", []).append("le code postal doit avoir 5 chiffres.")
    entry = {
        "id": values["id"], "name": values["name"], "organization": values["organization"] or None,
        "category": values["category"] or None, "description": values["description"], "phones": phones,
        "url": values["url"] or None, "email": values["email"] or None, "situations": values["situations"],
        "publics": {"ages": values["ages"], "roles": values["roles"], "genders": values["genders"]},
        "area": area, "address": address,
        "confidential_address": values["confidential_address"], "hours": values["hours"] or None,
        "visibility": values["visibility"] or "public", "cost": values["cost"] or None,
        "emergency": values["emergency"], "access": values["access"] or None, "source": values["source"] or None,
        "verified_on": values["verified_on"] or None, "a_verifier": values["a_verifier"],
    }
    return entry, problems


def _all_problems(directory, entry: dict, early: dict[str, list[str]]) -> dict[str, list[str]]:
    """The early problems plus what the loader's own validation says (one pass: every
    field's problem shown at once)."""
    sources = {r[0] for r in directory.db.execute("SELECT id FROM source")}
    _, found = validate_service(entry, directory.vocabulary, set(directory.snapshot.territories), sources, "formulaire")
    merged = {k: list(v) for k, v in early.items()}
    for p in found:
        if p.field == "area" and "area" in early:
            continue
        merged.setdefault(p.field or "_", []).append(p.message)
    return merged


def _phone_rows_invalid(values: dict) -> list[bool]:
    """Which phone rows hold the invalid numbers (to mark those fields only)."""
    flags = []
    for number, kind in zip(values["phone_number"], values["phone_type"] + ["voice"] * 20):
        try:
            flags.append(bool(number.strip()) and parse_phone(number, kind if kind in ("voice", "sms") else "voice") is None)
        except DirectoryError:
            flags.append(True)
    return flags


def _edit_page(request, *, values, errors=None, service=None, conflict=None, closure_errors=None,
               closure_values=None, status=200) -> HTMLResponse:
    directory = request.app.state.directory
    ctx = {"values": values, "errors": errors or {}, "service": service, "conflict": conflict,
           "phone_invalid": _phone_rows_invalid(values) if errors and "phones" in errors else [],
           "closure_errors": closure_errors or {}, "closure_values": closure_values or {},
           "ok": request.query_params.get("ok"), **_choices(directory)}
    if service is not None:
        ctx["reports"] = [dict(r) for r in directory.db.query(
            "SELECT * FROM error_report WHERE service_id = ? AND resolved_at IS NULL ORDER BY id", [service.id])]
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
        return _edit_page(request, values=values, errors=_all_problems(directory, entry, early), status=422)
    try:
        s = save_service(directory, entry, version=None, username=user.username)
    except EditError as exc:
        return _edit_page(request, values=values, errors=exc.by_field(), status=422)
    return _redirect(f"/admin/services/{s.id}?ok=created")


@router.get("/services/{sid}", response_class=HTMLResponse)
async def service_edit(request: Request, sid: str, user: StaffUser = Depends(as_editeur)):
    s = _service_or_404(request, sid)
    if s is None:
        return _not_found(request)
    return _edit_page(request, values=values_from_entry(service_entry(s), s.version), service=s)


def _current_version(directory, sid: str) -> int | None:
    row = directory.db.execute("SELECT version FROM service WHERE id = ?", [sid]).fetchone()
    return row[0] if row else None


@router.post("/services/{sid}")
async def service_save(request: Request, sid: str, user: StaffUser = Depends(as_editeur)):
    directory = request.app.state.directory
    s = _service_or_404(request, sid)
    if s is None:
        return _not_found(request)
    values = values_from_form(await request.form())
    values["id"] = sid  # the address names the entry; an id field cannot retarget the save
    try:
        version = int(values["version"])
    except ValueError:
        version = -1  # no version sent: treated as a conflict, never as an overwrite
    entry, early = entry_from_values(directory, values)
    if early:
        return _edit_page(request, values=values, errors=_all_problems(directory, entry, early), service=s, status=422)
    try:
        save_service(directory, entry, version=version, username=user.username)
    except EditError as exc:
        return _edit_page(request, values=values, errors=exc.by_field(), service=s, status=422)
    except Conflict as exc:
        last = next(iter(reversed(audit_of(directory, sid))), None)
        values["version"] = str(_current_version(directory, sid))
        changes = [(f, json.dumps(mine, ensure_ascii=False), json.dumps(now, ensure_ascii=False))
                   for f, mine, now in exc.changes]
        return _edit_page(request, values=values, service=_service_or_404(request, sid), status=409,
                          conflict={"changes": changes, "last": last})
    return _redirect(f"/admin/services/{sid}?ok=saved")


@router.post("/services/{sid}/archive")
async def service_archive(request: Request, sid: str, user: StaffUser = Depends(as_editeur)):
    if _service_or_404(request, sid) is None:
        return _not_found(request)
    archive_service(request.app.state.directory, sid, user.username)
    return _redirect(f"/admin/services/{sid}?ok=archived")


@router.post("/services/{sid}/verify")
async def service_verify(request: Request, sid: str, user: StaffUser = Depends(as_editeur)):
    if _service_or_404(request, sid) is None:
        return _not_found(request)
    verify_service(request.app.state.directory, sid, user.username)
    back = safe_next(str((await request.form()).get("next") or ""), f"/admin/services/{sid}")
    return _redirect(back + ("&" if "?" in back else "?") + "ok=verified")


@router.post("/services/{sid}/closures")
async def service_closure(request: Request, sid: str, user: StaffUser = Depends(as_editeur)):
    directory = request.app.state.directory
    s = _service_or_404(request, sid)
    if s is None:
        return _not_found(request)
    form = await request.form()
    closure = {k: str(form.get(k) or "").strip() for k in ("start", "end", "reason")}
    errors = {}
    if len(closure["reason"]) > 200:
        errors["reason"] = ["texte trop long (200 caractères au plus)."]
    if not errors:
        try:
            add_closure(directory, sid, closure["start"], closure["end"], closure["reason"] or None, user.username)
            return _redirect(f"/admin/services/{sid}?ok=closure#closures")
        except EditError as exc:
            errors = exc.by_field()
    return _edit_page(request, values=values_from_entry(service_entry(s), s.version), service=s,
                      closure_errors=errors, closure_values=closure, status=422)


@router.get("/services/{sid}/journal", response_class=HTMLResponse)
async def service_journal(request: Request, sid: str, user: StaffUser = Depends(as_editeur)):
    s = _service_or_404(request, sid)
    if s is None:
        return _not_found(request)
    rows = list(reversed(audit_of(request.app.state.directory, sid)))
    return render(request, "admin/audit.html", {"rows": rows, "service": s, "truncated": False})


# -- audit log -------------------------------------------------------------------------------
@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, user: StaffUser = Depends(as_editeur)):
    db = request.app.state.directory.db
    rows = [dict(r) for r in db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", [AUDIT_PAGE + 1])]
    return render(request, "admin/audit.html", {"rows": rows[:AUDIT_PAGE], "service": None,
                                                "truncated": len(rows) > AUDIT_PAGE})


def _cell(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (=, +, -, @ first)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/audit.csv")
async def audit_csv(request: Request, user: StaffUser = Depends(as_editeur)):
    out = io.StringIO()
    writer = csv.writer(out)
    columns = ("id", "at", "username", "entry", "action", "field", "before", "after")
    writer.writerow(columns)
    for r in request.app.state.directory.db.query("SELECT * FROM audit_log ORDER BY id"):
        writer.writerow([_cell(r[c]) for c in columns])
    name = f"journal-annuaire-{date.today().isoformat()}.csv"
    # UTF-8 with a byte-order mark, so spreadsheets read the accents right.
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- verification queue ------------------------------------------------------------------------
@router.get("/verification", response_class=HTMLResponse)
async def queue_page(request: Request, user: StaffUser = Depends(as_editeur)):
    months = verify_months()
    items = verification_queue(request.app.state.directory, months=months)
    return render(request, "admin/verification.html", {"items": items, "months": months,
                                                       "report_kinds": REPORT_KINDS,
                                                       "ok": request.query_params.get("ok")})


@router.post("/reports/{report_id}/resolve")
async def report_resolve(request: Request, report_id: int, user: StaffUser = Depends(as_editeur)):
    try:
        resolve_report(request.app.state.directory, report_id, user.username)
    except EditError as exc:
        return render(request, "admin/denied.html", {"message": exc.problems[0].message[:1].upper()
                                                     + exc.problems[0].message[1:] + ".",
                                                     "back": "/admin/verification"}, status=404)
    back = safe_next(str((await request.form()).get("next") or ""), "/admin/verification")
    return _redirect(back + ("&" if "?" in back else "?") + "ok=resolved")


# -- staff accounts --------------------------------------------------------------------------
def _users(db) -> list[dict]:
    return [dict(r) for r in db.query("SELECT username, role, active, created_at FROM staff_user ORDER BY username")]


def _users_page(request, *, errors=None, values=None, target=None, status=200) -> HTMLResponse:
    return render(request, "admin/users.html", {
        "users": _users(request.app.state.directory.db), "roles": ROLES, "errors": errors or {},
        "values": values or {"username": "", "role": "lecteur"}, "target": target,
        "ok": request.query_params.get("ok")}, status=status)


@router.get("/users", response_class=HTMLResponse)
async def users_page(request: Request, user: StaffUser = Depends(as_admin)):
    return _users_page(request)


@router.post("/users")
async def users_add(request: Request, user: StaffUser = Depends(as_admin)):
    form = await request.form()
    values = {"username": str(form.get("username") or "").strip(), "role": str(form.get("role") or "")}
    password, again = str(form.get("password") or ""), str(form.get("password_again") or "")
    if password != again:
        return _users_page(request, errors={"password": ["les deux mots de passe ne sont pas identiques."]},
                           values=values, status=422)
    try:
        add_user(request.app.state.directory.db, values["username"], password, values["role"])
    except StaffError as exc:
        return _users_page(request, errors={exc.field or "username": [exc.message + "."]}, values=values, status=422)
    return _redirect("/admin/users?ok=user_added")


@router.post("/users/disable")
async def users_disable(request: Request, user: StaffUser = Depends(as_admin)):
    username = str((await request.form()).get("username") or "")
    if username == user.username:
        return _users_page(request, errors={"target": ["vous ne pouvez pas désactiver votre propre compte."]},
                           target=username, status=422)
    try:
        disable_user(request.app.state.directory.db, username)
    except StaffError as exc:
        return _users_page(request, errors={"target": [exc.message + "."]}, target=username, status=422)
    return _redirect("/admin/users?ok=user_disabled")


@router.post("/users/password")
async def users_password(request: Request, user: StaffUser = Depends(as_admin)):
    form = await request.form()
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    try:
        set_password(request.app.state.directory.db, username, password)
    except StaffError as exc:
        return _users_page(request, errors={"target": [exc.message + "."]}, target=username, status=422)
    if username == user.username:  # set_password closed this session too
        response = _redirect("/admin/login?out=1")
        clear_session_cookie(response, request)
        return response
    return _redirect("/admin/users?ok=password")
