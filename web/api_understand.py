"""POST /api/understand: what one message says (see contracts.md)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from typing import Literal

from bot.i18n import LANGUAGES
from bot.understand import Understanding

from . import turns

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["compréhension"])


class UnderstandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(..., max_length=2000)
    lang: Literal[tuple(LANGUAGES)] | None = None  # the conversation's language (issue 14)


@router.post("/understand", summary="Ce que dit un message : situation, danger, commune, rôle, besoins")
async def understand(request: Request, body: UnderstandIn):
    try:  # in the one thread that runs spaCy and the classifier (web.turns)
        understander = request.app.state.understander
        if body.lang in ("en", "ar"):
            return (await turns.run(understander.understand, body.text, body.lang)).as_dict()
        return (await turns.run(understander.understand, body.text)).as_dict()
    except turns.TurnTimeout:
        return Understanding(danger=True, failed=True).as_dict()  # fail safe, as the understanding does
