"""Public HTML pages, rendered by Jinja2 (autoescaped) from templates/."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from bot.i18n import LANGUAGES, direction, translator

__all__ = ["router", "templates", "emergency_contacts"]

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)


def page_language(lang: object) -> str:
    """The page's language from `?lang=` (French when absent or unknown)."""
    return lang if isinstance(lang, str) and lang in LANGUAGES else "fr"


def language_context(lang: str) -> dict:
    """What a page needs to speak `lang`: `_` (plain texts), `_html` (the few texts of our
    own catalogs that carry <strong>), `lang`/`dir` for <html>, and the language choice."""
    tr = translator(lang)
    return {"_": tr.gettext, "_html": lambda text: Markup(tr.gettext(text)), "lang": lang,
            "html_lang": lang.split("_")[0], "dir": direction(lang),
            "languages": [(code, name) for code, (name, _) in LANGUAGES.items()]}


def emergency_contacts(app) -> list[dict]:
    """17, 112 and SMS 114 as the rules and the directory give them (never typed into a template).
    If the rules or the directory fail, the last list they gave: the emergency answer must
    not depend on the part that is failing."""
    try:
        app.state.last_emergency = app.state.dialogue.flag_contacts("danger")
    except Exception:
        if not getattr(app.state, "last_emergency", None):
            raise
    return app.state.last_emergency


@router.get("/", response_class=HTMLResponse)
async def chat_page(request: Request):
    lang = page_language(request.query_params.get("lang"))
    return templates.TemplateResponse(request, "chat.html", {
        "emergency": emergency_contacts(request.app),
        "exit_url": request.app.state.settings.exit_url,
        **language_context(lang),
    })
