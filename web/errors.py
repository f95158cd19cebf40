"""One JSON error shape for the web: {"detail": "<French message>"} (+ "field" when known)."""
from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["ApiError", "install_error_handlers", "ERROR_RESPONSES"]


class ApiError(Exception):
    def __init__(self, status: int, detail: str, field: str | None = None):
        super().__init__(detail)
        self.status, self.detail, self.field = status, detail, field


_MESSAGES = {
    "missing": "ce champ est obligatoire",
    "string_too_long": "texte trop long",
    "string_too_short": "texte vide",
    "greater_than_equal": "valeur trop petite",
    "less_than_equal": "valeur trop grande",
    "int_parsing": "un nombre entier est attendu",
    "bool_parsing": "true ou false est attendu",
    "bool_type": "true ou false est attendu",
    "string_type": "un texte est attendu",
    "list_type": "une liste est attendue",
    "json_invalid": "le corps de la requête n'est pas du JSON valide",
    "model_attributes_type": "un objet JSON est attendu",
    "dict_type": "un objet JSON est attendu",
    "extra_forbidden": "champ inconnu",
}

_ERROR_SCHEMA = {"type": "object", "required": ["detail"], "additionalProperties": False,
                 "properties": {"detail": {"type": "string"}, "field": {"type": "string"}}}
_ERRORS = {404: "Introuvable", 408: "Corps de requête arrivé trop lentement", 413: "Requête trop volumineuse",
           415: "Envoi de fichiers refusé", 422: "Donnée invalide : le message nomme le champ",
           429: "Trop de requêtes : réessayez plus tard", 500: "Erreur interne (avec les numéros d'urgence)",
           503: "Serveur occupé : réessayez dans un instant"}
# Documented on every operation of the OpenAPI document: what any route may answer.
ERROR_RESPONSES = {code: {"description": text, "content": {"application/json": {"schema": _ERROR_SCHEMA}}}
                   for code, text in _ERRORS.items()}

_STATUS = {404: "Page introuvable.", 405: "Méthode non autorisée.", 413: "Requête trop volumineuse."}


def _field(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "corps"


def install_error_handlers(app) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        body = {"detail": exc.detail}
        if exc.field:
            body["field"] = exc.field
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "type": ""}
        field = _field(first.get("loc", ()))
        message = _MESSAGES.get(first.get("type", ""), "valeur invalide")
        return JSONResponse({"detail": f"Champ « {field} » : {message}.", "field": field}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) and exc.detail not in ("Not Found", "Method Not Allowed") else _STATUS.get(exc.status_code, "Erreur.")
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))
