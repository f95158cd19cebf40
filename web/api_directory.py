"""JSON API of the directory: communes and services (public data only)."""
from __future__ import annotations

from fastapi import APIRouter, Query, Request

from directory import MAX_PER_PAGE, DirectoryError, NotFound

from .errors import ApiError

__all__ = ["router", "resolve_commune_param", "MAX_PAGE"]

router = APIRouter(prefix="/api", tags=["annuaire"])
MAX_PAGE = 1_000_000  # far beyond any real page, far below what SQLite's 64-bit OFFSET overflows on


def resolve_commune_param(directory, value: str | None, field: str = "commune"):
    """Turn an INSEE code, a postal code or a name into one commune, or a clear 422."""
    if value is None or not value.strip():
        return None
    # API clients send INSEE codes (contracts.md); a 5-digit value is read as INSEE first.
    res = directory.resolve_commune(value, codes="insee")
    if res.status == "found":
        return res.commune
    if res.status == "ambiguous":
        names = ", ".join(f"{m.commune.name} ({m.commune.insee})" for m in res.candidates[:8])
        raise ApiError(422, f"« {value} » peut désigner plusieurs communes : {names}. Précisez le code INSEE ou le nom.", field)
    if res.status == "out_of_area":
        raise ApiError(422, f"« {value} » n'est pas dans le territoire couvert par cet annuaire.", field)
    raise ApiError(422, f"Commune « {value} » introuvable : donnez un nom, un code postal ou un code INSEE de la zone couverte.", field)


@router.get("/communes", summary="Trouver une commune par son nom, son code postal ou son code INSEE")
async def communes(request: Request, q: str = Query(..., min_length=1, max_length=200), limit: int = Query(10, ge=1, le=50)):
    directory = request.app.state.directory
    res = directory.resolve_commune(q)
    matches = directory.snapshot.communes.search(q, limit) if res.status != "out_of_area" else []
    return {"query": q, "status": res.status if matches or res.status == "out_of_area" else "not_found",
            "communes": [m.as_dict() for m in matches]}


@router.get("/services", summary="Chercher des services")
async def services(request: Request, q: str | None = Query(None, max_length=200), commune: str | None = Query(None, max_length=100),
                   situation: str | None = None, category: str | None = None,
                   page: int = Query(1, ge=1, le=MAX_PAGE), per_page: int = Query(50, ge=1, le=MAX_PER_PAGE)):
    directory = request.app.state.directory
    found = resolve_commune_param(directory, commune)
    try:
        hits, total = directory.search(q, commune=found.insee if found else None, situation=situation,
                                       category=category, page=page, per_page=per_page)
    except DirectoryError as exc:
        raise ApiError(422, exc.message[0].upper() + exc.message[1:] + ".", exc.field) from None
    return {
        "services": [directory.service_json(h.service, scope=h.scope) for h in hits],
        "total": total, "page": page, "per_page": per_page,
        "commune": found.as_dict() if found else None,
    }


@router.get("/services/{service_id}", summary="Un service de l'annuaire")
async def service(request: Request, service_id: str):
    directory = request.app.state.directory
    try:
        s = directory.service(service_id)
    except NotFound:
        raise ApiError(404, f"Aucun service « {service_id} » dans l'annuaire public.") from None
    return directory.service_json(s)
