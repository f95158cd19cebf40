"""The staff side of the web: who is logged in, what their role allows, CSRF checks,
the login rate limit, the session cookie, and the templates of the staff pages.

Deny by default: every staff route depends on `require(role)`, which refuses the
anonymous and the roles below `role`, and checks the CSRF token of every request
that is not GET/HEAD. The routers use `StaffRoute`, which turns a refusal into a
French HTML page (or a redirect to the login form) instead of the JSON error of the
public API.

The session cookie is `__Host-session`: Secure, HttpOnly, SameSite=Strict, Path=/,
no Domain. Chromium accepts Secure cookies from http://127.0.0.1 and
http://localhost (they count as secure contexts), so local development over plain
http works with the same cookie. Only the setting `insecure_cookies`
(`ORIENTATION_INSECURE_COOKIES=1`: a plain-http host that is not loopback, for
development only) drops Secure, and with it the `__Host-` prefix, which browsers
refuse without Secure: the cookie is then `session`.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections import deque
from datetime import date, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from directory.hours import PARIS
from directory.phones import Phone
from directory.staff import StaffUser, session_user

__all__ = ["SECURE_COOKIE", "PLAIN_COOKIE", "StaffDenied", "StaffRoute", "Limiter",
           "LoginLimiter", "templates", "render", "require", "current_user", "check_csrf", "check_same_site",
           "cookie_name", "set_session_cookie", "clear_session_cookie", "session_token", "client_key",
           "login_limiter", "safe_next", "format_hours", "audit_words", "as_lecteur", "as_editeur", "as_admin",
           "redirect", "home_of", "with_ok"]

SECURE_COOKIE = "__Host-session"
PLAIN_COOKIE = "session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_MESSAGE = ("Ce formulaire a expiré ou ne vient pas de ce site : rien n'a été enregistré. "
                "Rechargez la page et recommencez.")
HERE = Path(__file__).resolve().parent


# -- cookie ----------------------------------------------------------------------------
def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or not request.app.state.settings.insecure_cookies


def cookie_name(request: Request) -> str:
    return SECURE_COOKIE if _secure(request) else PLAIN_COOKIE


def session_token(request: Request) -> str | None:
    return request.cookies.get(cookie_name(request))


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    # No Max-Age: the cookie ends with the browser; the server ends the session anyway
    # after directory.staff.SESSION_SECONDS, and at once at logout.
    response.set_cookie(cookie_name(request), token, path="/", secure=_secure(request), httponly=True,
                        samesite="strict")


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(cookie_name(request), path="/", secure=_secure(request), httponly=True,
                           samesite="strict")


# -- who is there -------------------------------------------------------------------------
def current_user(request: Request) -> StaffUser | None:
    """The staff member of this request's session, if any (looked up once per request)."""
    if not hasattr(request.state, "staff_user"):
        request.state.staff_user = session_user(request.app.state.directory.db, session_token(request))
    return request.state.staff_user


class StaffDenied(Exception):
    """A refusal: `login` sends anonymous GETs to the login form; else a French page."""

    def __init__(self, status: int, message: str, *, login: bool = False):
        super().__init__(message)
        self.status, self.message, self.login = status, message, login


def check_same_site(request: Request) -> None:
    """Refuse a state-changing request that a browser says comes from another site.

    Our pages send no Referer and their Origin is "null" (Referrer-Policy:
    no-referrer), so the browser's Sec-Fetch-Site is the reliable signal; an Origin
    naming another host is refused too. Clients that send neither (scripts, old
    browsers) still need the CSRF token on every authenticated route.
    """
    site = request.headers.get("sec-fetch-site")
    if site in ("cross-site", "same-site"):
        raise StaffDenied(403, CSRF_MESSAGE)
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host", ""):
        raise StaffDenied(403, CSRF_MESSAGE)


async def check_csrf(request: Request, user: StaffUser) -> None:
    """Synchronizer token: the session's `csrf`, sent back in a hidden field (or the
    X-CSRF-Token header for scripts), compared in constant time."""
    check_same_site(request)
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get("csrf")
    if not isinstance(sent, str) or not user.csrf or not hmac.compare_digest(sent.encode(), user.csrf.encode()):
        raise StaffDenied(403, CSRF_MESSAGE)


def require(role: str):
    """Dependency: the logged-in staff member, with at least `role`; CSRF-checked
    whenever the request may change something."""

    async def dependency(request: Request) -> StaffUser:
        user = current_user(request)
        if user is None:
            raise StaffDenied(401, "Connectez-vous pour ouvrir cette page.", login=True)
        if not user.can(role):
            raise StaffDenied(403, "Votre compte ne donne pas accès à cette page. "
                                   "Demandez à une personne qui administre l'annuaire si vous en avez besoin.")
        if request.method not in SAFE_METHODS:
            await check_csrf(request, user)
        return user

    dependency.required_role = role  # read by the tests of the role matrix
    return dependency


as_lecteur, as_editeur, as_admin = require("lecteur"), require("editeur"), require("admin")


def home_of(user: StaffUser) -> str:
    """Where a staff member lands: the administration for editors, the referral search otherwise."""
    return "/admin" if user.can("editeur") else "/pro"


def redirect(url: str) -> RedirectResponse:
    """After a POST: 303, so the browser GETs the page that says what happened."""
    return RedirectResponse(url, status_code=303)


def with_ok(url: str, code: str) -> str:
    """`url` announcing `code` (`?ok=<code>`, worded in the templates)."""
    return url + ("&" if "?" in url else "?") + f"ok={code}"


def safe_next(value: str | None, default: str = "/admin") -> str:
    """Only paths of this site's staff pages: never another host (open redirect)."""
    if isinstance(value, str) and value.startswith(("/admin", "/pro")) and "//" not in value and "\\" not in value:
        return value
    return default


class StaffRoute(APIRoute):
    """Turns StaffDenied into a redirect to the login form or a French HTML page."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except StaffDenied as exc:
                if exc.login and request.method in SAFE_METHODS:
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/admin/login?next={quote(target, safe='')}", status_code=303)
                return render(request, "admin/denied.html", {"message": exc.message}, status=exc.status)

        return route_handler


# -- rate limits -----------------------------------------------------------------------
_CLIENT_KEY = secrets.token_bytes(32)  # per process, never stored: client keys cannot be reversed


def client_key(request: Request) -> str:
    """A keyed hash of the client's address (web.proxies decides what that address is),
    kept only for the rate limits: no IP address is ever stored or logged. With Redis,
    every worker hashes with the same derived key so that they count together."""
    host = request.client.host if request.client else ""
    shared = getattr(request.app.state, "shared", None)
    if shared is not None:
        return shared.client_key(host)
    return hmac.new(_CLIENT_KEY, host.encode(), hashlib.sha256).hexdigest()[:24]


class Limiter:
    """At most `limit` events per key within `window` seconds, in memory."""

    MAX_KEYS = 10_000

    def __init__(self, limit: int, window: float, clock=time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self.events: dict[str, deque] = {}

    def _recent(self, key: str) -> deque:
        now = self.clock()
        q = self.events.get(key)
        if q is None:
            return deque()
        while q and now - q[0] >= self.window:
            q.popleft()
        if not q:
            del self.events[key]
        return q

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again (0: now)."""
        q = self._recent(key)
        if len(q) < self.limit:
            return 0
        return max(1, int(q[0] + self.window - self.clock()) + 1)

    def hit(self, key: str) -> None:
        if len(self.events) >= self.MAX_KEYS:  # forget expired keys before growing
            for k in list(self.events):
                self._recent(k)
        self.events.setdefault(key, deque()).append(self.clock())

    def clear(self, key: str) -> None:
        self.events.pop(key, None)


class LoginLimiter:
    """5 failed logins for one account from one client, and 20 from one client, within
    15 minutes. It slows an address, never an account: someone elsewhere cannot lock a
    staff member out by failing on purpose with their username."""

    def __init__(self, per_user: int = 5, per_client: int = 20, window: float = 15 * 60, clock=time.monotonic,
                 limiter=None):
        make = limiter or (lambda name, limit: Limiter(limit, window, clock))
        self.users = make("login-account", per_user)
        self.clients = make("login-client", per_client)

    @staticmethod
    def _user(username: str, client: str) -> str:
        return "u:" + hashlib.sha256(f"{client}\0{username.strip().casefold()}".encode()).hexdigest()

    def retry_after(self, username: str, client: str) -> int:
        return max(self.users.retry_after(self._user(username, client)), self.clients.retry_after(client))

    def failed(self, username: str, client: str) -> None:
        self.users.hit(self._user(username, client))
        self.clients.hit(client)

    def succeeded(self, username: str, client: str) -> None:
        self.users.clear(self._user(username, client))


def login_limiter(app) -> LoginLimiter:
    if not hasattr(app.state, "login_limiter"):
        shared = getattr(app.state, "shared", None)
        make = (lambda name, limit: shared.limiter(name, limit, 15 * 60)) if shared is not None else None
        app.state.login_limiter = LoginLimiter(limiter=make)
    return app.state.login_limiter


# -- templates ---------------------------------------------------------------------------
# The words of opening hours (OpenStreetMap syntax) in French, as in chat.html's
# #hours-words template, for pages rendered without JavaScript.
_HOURS_WORDS = {"24/7": "24h/24, 7j/7", "Mo": "lun.", "Tu": "mar.", "We": "mer.", "Th": "jeu.", "Fr": "ven.",
                "Sa": "sam.", "Su": "dim.", "PH": "jours fériés", "off": "fermé", "-": "à", "to": "au"}


def format_hours(hours: str | None) -> str:
    if not hours:
        return ""
    w = _HOURS_WORDS
    if hours.strip() in w:
        return w[hours.strip()]
    day = r"\b(Mo|Tu|We|Th|Fr|Sa|Su|PH)\b"
    parts = []
    for rule in hours.split(";"):
        rule = rule.strip()
        rule = re.sub(day + "-" + day, lambda m: f"{w[m[1]]} {w['to']} {w[m[2]]}", rule)
        rule = re.sub(day, lambda m: w[m[1]], rule)
        rule = re.sub(r"(\d\d:\d\d)-(\d\d:\d\d)", lambda m: f"{m[1]} {w['-']} {m[2]}", rule)
        rule = re.sub(r"\boff\b", w["off"], rule)
        rule = re.sub(r",(?=\S)", ", ", rule)
        if rule:
            parts.append(rule)
    return " ; ".join(parts)


def _fr_date(value) -> str:
    """"2021-10-19" -> "19/10/2021"."""
    try:
        return date.fromisoformat(str(value)[:10]).strftime("%d/%m/%Y")
    except (TypeError, ValueError):
        return str(value or "")


def _fr_datetime(value) -> str:
    """An ISO UTC timestamp, in Paris time: "19/10/2021 à 14:03"."""
    try:
        return datetime.fromisoformat(str(value)).astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
    except (TypeError, ValueError):
        return str(value or "")


def _json_value(value) -> object:
    """An audit value (JSON text) back to Python, for display."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


# autoescape=True for every template, whatever its extension (output encoding everywhere).
# Words of the audit log's values, as people read them.
_AUDIT_WORDS = {"empty": "(vide)", True: "oui", False: "non", "voice": "appel", "sms": "SMS"}
_AUDIT_KEYS = {"ages": "âges", "roles": "publics", "genders": "réservé à", "reason": "motif"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _words(v) -> str:
    if v is None or v == "" or v == [] or v == {}:
        return _AUDIT_WORDS["empty"]
    if isinstance(v, bool):
        return _AUDIT_WORDS[v]
    if isinstance(v, dict):
        if "number" in v:  # a phone
            return f"{Phone(str(v['number'])).display} ({_AUDIT_WORDS.get(v.get('type'), v.get('type'))})"
        if "start" in v and "end" in v:  # a temporary closure
            return f"{_fr_date(v['start'])} → {_fr_date(v['end'])}" + (f" ({v['reason']})" if v.get("reason") else "")
        if {"street", "postal_code", "city"} >= set(v):  # an address
            return ", ".join(str(v[k]) for k in ("street", "postal_code", "city") if v.get(k))
        return " ; ".join(f"{_AUDIT_KEYS.get(k, k)} : {_words(x)}" for k, x in sorted(v.items()))
    if isinstance(v, list):
        return ", ".join(_words(x) for x in v)
    if isinstance(v, str) and _ISO_DATE.match(v):
        return _fr_date(v)
    return str(v)


def audit_words(raw) -> str:
    """An audit value (JSON text) in words: phones spaced, dates the French way."""
    return _words(_json_value(raw))


_env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(HERE / "templates")), autoescape=True)
_env.filters.update(fr_date=_fr_date, fr_datetime=_fr_datetime, hours_fr=format_hours, audit_words=audit_words)
templates = Jinja2Templates(env=_env)


def render(request: Request, name: str, context: dict | None = None, status: int = 200) -> HTMLResponse:
    """A staff page: the template gets the logged-in `user` and its `csrf` token."""
    user = current_user(request)
    ctx = {"user": user, "csrf": user.csrf if user else "", **(context or {})}
    return templates.TemplateResponse(request, name, ctx, status_code=status)
