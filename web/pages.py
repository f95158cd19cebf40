"""Public HTML pages, rendered by Jinja2 (autoescaped) from templates/."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

__all__ = ["router", "templates", "emergency_contacts"]

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)

def emergency_contacts(app) -> list[dict]:
    """17, 112 and SMS 114 as the directory holds them (never typed into a template)."""
    from rules import Request as RulesRequest

    orienter = app.state.orienter
    with_danger = orienter.orient(RulesRequest(danger=True)).contacts
    without = {c["id"] for c in orienter.orient(RulesRequest()).contacts}
    return [c for c in with_danger if c["id"] not in without]


@router.get("/", response_class=HTMLResponse)
async def chat_page(request: Request):
    return templates.TemplateResponse(request, "chat.html", {
        "emergency": emergency_contacts(request.app),
        "exit_url": request.app.state.settings.exit_url,
    })
