"""Open data API in Open Referral HSDS 3.0 shape: `/hsds/`, `/hsds/services`, `/hsds/services/{id}`.

Public data only: pro-only and inactive services and confidential addresses are
filtered by `directory.hsds`, which every response goes through.
"""
from __future__ import annotations

from fastapi import APIRouter, Query, Request

from directory import MAX_PER_PAGE, DirectoryError, NotFound, hsds

from .api_directory import MAX_PAGE
from .errors import ApiError

__all__ = ["router"]

router = APIRouter(prefix="/hsds", tags=["données ouvertes (HSDS 3.0)"])


@router.get("/", summary="Version HSDS, profil et description OpenAPI de cette API")
async def root() -> dict:
    return hsds.api_root()


@router.get("/services", summary="Les services publics, page par page (HSDS service_list)")
async def services(request: Request, page: int = Query(1, ge=1, le=MAX_PAGE),
                   per_page: int = Query(50, ge=1, le=MAX_PER_PAGE)) -> dict:
    try:
        return hsds.services_page(request.app.state.directory, page, per_page)
    except DirectoryError as exc:
        raise ApiError(422, exc.message[0].upper() + exc.message[1:] + ".", exc.field) from None


@router.get("/services/{service_id}", summary="Un service public, complet (HSDS service)")
async def service(request: Request, service_id: str) -> dict:
    try:
        return hsds.service_by_id(request.app.state.directory, service_id)
    except NotFound:
        raise ApiError(404, f"Aucun service « {service_id} » dans les données ouvertes de l'annuaire.") from None
