"""Staff sign-in and sign-out (/admin/login, /admin/logout).

Sign-in is rate-limited (web.staff.LoginLimiter) and opens a fresh server-side
session each time (no fixation); sign-out revokes it on the server.
"""
from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from directory.staff import StaffUser, close_session, open_session

from .hashing import authenticate_async
from .staff import (StaffRoute, as_lecteur, check_same_site, clear_session_cookie, client_key, current_user, home_of,
                    login_limiter, redirect, render, safe_next, session_token, set_session_cookie)

__all__ = ["router"]

router = APIRouter(prefix="/admin", route_class=StaffRoute, include_in_schema=False)
log = logging.getLogger("orientation.admin")


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request):
    user = current_user(request)
    target = request.query_params.get("next")
    if user is not None:
        return redirect(safe_next(target, home_of(user)))
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
    user = await authenticate_async(db, username, password) if username and password else None  # off the loop
    if user is None:
        limiter.failed(username, client)
        return render(request, "admin/login.html", {**ctx, "error": "Identifiant ou mot de passe incorrect."}, status=401)
    limiter.succeeded(username, client)
    close_session(db, session_token(request))  # a fresh session at each login (no fixation)
    response = redirect(target or home_of(user))
    set_session_cookie(response, request, open_session(db, user))
    return response


@router.post("/logout")
async def logout(request: Request, user: StaffUser = Depends(as_lecteur)):
    close_session(request.app.state.directory.db, session_token(request))  # revoked on the server
    response = redirect("/admin/login?out=1")
    clear_session_cookie(response, request)
    return response
