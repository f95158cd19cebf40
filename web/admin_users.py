"""Staff accounts (/admin/users), for administrators: create, disable, set a password.
Every change is audited under the administrator's name; hashing runs off the event loop."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from directory.staff import ROLES, StaffError, StaffUser, disable_user, list_users

from .hashing import add_user_async, set_password_async
from .staff import StaffRoute, as_admin, clear_session_cookie, redirect, render

__all__ = ["router"]

router = APIRouter(prefix="/admin", route_class=StaffRoute, include_in_schema=False)


def _users_page(request, *, errors=None, values=None, target=None, status=200) -> HTMLResponse:
    return render(request, "admin/users.html", {
        "users": list_users(request.app.state.directory.db), "roles": ROLES, "errors": errors or {},
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
        await add_user_async(request.app.state.directory.db, values["username"], password, values["role"], user.username)
    except StaffError as exc:
        return _users_page(request, errors={exc.field or "username": [exc.message + "."]}, values=values, status=422)
    return redirect("/admin/users?ok=user_added")


@router.post("/users/disable")
async def users_disable(request: Request, user: StaffUser = Depends(as_admin)):
    username = str((await request.form()).get("username") or "")
    if username == user.username:
        return _users_page(request, errors={"target": ["vous ne pouvez pas désactiver votre propre compte."]},
                           target=username, status=422)
    try:
        disable_user(request.app.state.directory.db, username, by=user.username)
    except StaffError as exc:
        return _users_page(request, errors={"target": [exc.message + "."]}, target=username, status=422)
    return redirect("/admin/users?ok=user_disabled")


@router.post("/users/password")
async def users_password(request: Request, user: StaffUser = Depends(as_admin)):
    form = await request.form()
    username, password = str(form.get("username") or ""), str(form.get("password") or "")
    try:
        await set_password_async(request.app.state.directory.db, username, password, user.username)
    except StaffError as exc:
        return _users_page(request, errors={"target": [exc.message + "."]}, target=username, status=422)
    if username == user.username:  # set_password closed this session too
        response = redirect("/admin/login?out=1")
        clear_session_cookie(response, request)
        return response
    return redirect("/admin/users?ok=password")
