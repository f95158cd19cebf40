"""POST /api/understand: what one message says (see contracts.md)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["compréhension"])


class UnderstandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(..., max_length=2000)


@router.post("/understand", summary="Ce que dit un message : situation, danger, commune, rôle, besoins")
async def understand(request: Request, body: UnderstandIn):
    return request.app.state.understander.understand(body.text).as_dict()
