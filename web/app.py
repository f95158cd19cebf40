"""The ASGI application: a thin layer over the directory, the rules and the bot."""
from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from bot.dialogue import Dialogue
from bot.sessions import SessionStore
from bot.understand import Understander
from directory import Directory
from rules import Orienter

from . import admin, api_chat, api_directory, api_hsds, api_orientation, api_understand, pages, pro
from .errors import install_error_handlers
from .middleware import AccessLog, SecurityHeaders
from .pages import HERE
from .settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, directory: Directory | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    if directory is None:
        directory = Directory.open(settings.db, settings.data_dir)
    app = FastAPI(title="Orientation des victimes", version="0.1.0", docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json")
    app.state.settings = settings
    app.state.directory = directory
    # Invalid rules stop the start with every problem listed (RulesError).
    app.state.orienter = Orienter(directory, settings.rules_dir)
    app.state.understander = Understander(directory, settings.model_dir)
    app.state.dialogue = Dialogue(directory, app.state.orienter, app.state.understander,
                                  SessionStore(ttl=settings.session_ttl, max_sessions=settings.max_sessions))
    install_error_handlers(app)
    app.include_router(api_directory.router)
    app.include_router(api_orientation.router)
    app.include_router(api_understand.router)
    app.include_router(api_chat.router)
    app.include_router(api_hsds.router)
    app.include_router(pages.router)
    app.include_router(pro.router)
    app.include_router(admin.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_middleware(AccessLog)
    app.add_middleware(SecurityHeaders)
    return app
