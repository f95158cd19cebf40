"""Pure ASGI guards that run before any route: they refuse what no route should see.

- `BodyLimit`: a body over `max_body` bytes is refused while it is read (a declared
  Content-Length at once, a chunked body as soon as it goes over), so a 500 MB post
  never sits in memory; a body that trickles in slower than `body_timeout` seconds
  per chunk is refused too; multipart bodies (file uploads) are refused outright:
  no staff or public form uploads files, and the parser would spool them to disk.
- `InputGuard`: NUL characters and lone surrogates (which SQLite, JSON encoders and
  logs choke on) in the query string or a JSON body get a French 422 naming the
  field; JSON nested deeper than `MAX_DEPTH` is refused before it is parsed (the
  parser would recurse until it crashes).
- `HeadAsGet`: HEAD is answered as GET without the body (pages gave 405).

Errors are sent here, in the one JSON shape of the API; the security headers and
the access log wrap these guards (see `web.app`).
"""
from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException

__all__ = ["BodyLimit", "InputGuard", "HeadAsGet", "BodyTooLarge", "BodyTooSlow", "MAX_DEPTH", "json_depth"]

MAX_DEPTH = 32
UNREADABLE = "ce texte contient des caractères non lisibles"


class BodyTooLarge(HTTPException):
    # An HTTPException, so FastAPI's body reading passes it on instead of making it a 400.
    def __init__(self):
        super().__init__(413, "Requête trop volumineuse.")


class BodyTooSlow(HTTPException):
    def __init__(self):
        super().__init__(408, "La requête est arrivée trop lentement : réessayez.")


async def send_error(send, status: int, detail: str, field: str | None = None, headers=()) -> None:
    body = {"detail": detail, **({"field": field} if field else {})}
    raw = json.dumps(body, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(raw)).encode()),
                            (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": raw})


def _header(scope, name: bytes) -> str:
    for k, v in scope.get("headers", ()):
        if k.lower() == name:
            return v.decode("latin-1")
    return ""


class BodyLimit:
    def __init__(self, app, max_body: int, body_timeout: float):
        self.app, self.max_body, self.body_timeout = app, max_body, body_timeout

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = _header(scope, b"content-length")
        if length and (not length.isdigit() or int(length) > self.max_body):
            return await send_error(send, 413, "Requête trop volumineuse.")
        if _header(scope, b"content-type").lower().startswith("multipart/"):
            return await send_error(send, 415, "L'envoi de fichiers n'est pas accepté ici.")
        received, started = 0, False

        async def limited_receive():
            nonlocal received
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout)
            except asyncio.TimeoutError:
                raise BodyTooSlow() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge()
            return message

        async def watched_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, watched_send)
        except (BodyTooLarge, BodyTooSlow) as exc:  # raised outside a route (InputGuard reading)
            if not started:
                await send_error(send, exc.status_code, exc.detail)


def json_depth(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when the JSON text nests no deeper than `limit` (strings skipped), without parsing it."""
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return False
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return True


def _unreadable(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800" in JSON)
        return True
    return False


def _bad_field(value, path: str = "") -> str | None:
    """The path of the first string (key or value) holding NUL or a lone surrogate."""
    if isinstance(value, str):
        return (path or "corps") if _unreadable(value) else None
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _bad_field(item, f"{path}.{i}" if path else str(i))
            if found:
                return found
    if isinstance(value, dict):
        for key, item in value.items():
            if _unreadable(key):
                return path or "corps"
            found = _bad_field(item, f"{path}.{key}" if path else key)
            if found:
                return found
    return None


class InputGuard:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if "\x00" in scope.get("path", ""):
            return await send_error(send, 404, "Page introuvable.")
        query = scope.get("query_string", b"").decode("latin-1")
        for key, value in parse_qsl(query, keep_blank_values=True):
            if "\x00" in key or "\x00" in value:
                return await send_error(send, 422, f"Champ « {key.strip(chr(0)) or 'requête'} » : {UNREADABLE}.",
                                        key.strip("\x00") or None)
        ctype = _header(scope, b"content-type").lower()
        if scope.get("method") in ("POST", "PUT", "PATCH") and ("/json" in ctype or "+json" in ctype):
            body = bytearray()
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    return
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            if not json_depth(body):
                return await send_error(send, 422, f"Le corps de la requête est trop imbriqué "
                                                   f"({MAX_DEPTH} niveaux au plus).")
            try:
                field = _bad_field(json.loads(body))
            except (ValueError, UnicodeDecodeError):
                field = None  # not JSON: the route says so in its own words
            if field:
                return await send_error(send, 422, f"Champ « {field} » : {UNREADABLE}.", field)
            replayed = False

            async def replay():
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}

            return await self.app(scope, replay, send)
        return await self.app(scope, receive, send)


class HeadAsGet:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message):
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
