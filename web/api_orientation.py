"""POST /api/orientation: who to contact, for which situation, where."""
from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from rules import RequestError, build_request

from .api_directory import resolve_commune_param
from .errors import ApiError

__all__ = ["router", "OrientationIn"]

router = APIRouter(prefix="/api", tags=["orientation"])


class OrientationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    situation: str | None = Field(None, max_length=64)
    commune: str | None = Field(None, max_length=100, description="Code INSEE, code postal ou nom")
    danger: bool = False
    distress: bool = False
    needs: list[str] = Field(default_factory=list, max_length=10)
    role: str | None = Field(None, max_length=32)
    age_group: str | None = Field(None, max_length=32)
    profile: list[str] = Field(default_factory=list, max_length=10)
    # optional (contracts.md, issue 11): of the person concerned; a man never gets a service for women only
    gender: str | None = Field(None, max_length=16, description="femme ou homme (la personne concernée)")


@router.post("/orientation", summary="Contacts à proposer pour une situation et une commune")
async def orientation(request: Request, body: OrientationIn):
    app = request.app
    commune = resolve_commune_param(app.state.directory, body.commune)
    try:
        req = build_request(app.state.directory.vocabulary, situation=body.situation,
                            commune=commune.insee if commune else None, danger=body.danger, distress=body.distress,
                            role=body.role, age_group=body.age_group, profile=body.profile, needs=body.needs,
                            gender=body.gender)
    except RequestError as exc:
        raise ApiError(422, exc.message, exc.field) from None
    return app.state.orienter.orient(req).as_dict()
