"""The ASGI application: a thin layer over the directory, the rules and the bot."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from bot.dialogue import Dialogue
from bot.understand import Understander
from directory import Directory
from rules import Orienter

from . import admin, api_chat, api_directory, api_hsds, api_orientation, api_understand, pages, pro
from .errors import ERROR_RESPONSES, install_error_handlers
from .guards import BodyLimit, HeadAsGet, InputGuard
from .hashing import Busy
from .middleware import AccessLog, SecurityHeaders
from .pages import HERE, emergency_contacts
from .proxies import ClientAddress
from .settings import Settings
from .shared_state import build_shared_state

__all__ = ["create_app"]

class OrientationApp(FastAPI):
    """FastAPI, with the security headers and the access log wrapped around Starlette's
    own error middleware: a 500 carries the headers and is logged with its status too."""

    def build_middleware_stack(self):
        settings = self.state.settings
        inner = super().build_middleware_stack()
        guarded = BodyLimit(InputGuard(inner), settings.max_body, settings.body_timeout)
        return SecurityHeaders(AccessLog(ClientAddress(HeadAsGet(guarded), settings.trusted_proxies)))


def _emergency_hint(app) -> str:
    """The emergency numbers, from the directory, for an error message (nothing if that fails too)."""
    try:
        reach = [f"{c['name']} ({c['phone_display'] or 'SMS ' + str(c['sms'])})" for c in emergency_contacts(app)]
    except Exception:
        return ""
    return " En cas de danger : " + ", ".join(reach) + "." if reach else ""


def create_app(settings: Settings | None = None, directory: Directory | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    if directory is None:
        directory = Directory.open(settings.db, settings.data_dir)
    # redirect_slashes off: Starlette builds that redirect from the Host header.
    app = OrientationApp(title="Orientation des victimes", version="0.1.0", docs_url=None, redoc_url=None,
                         openapi_url="/api/openapi.json", redirect_slashes=False, responses=ERROR_RESPONSES)
    app.state.settings = settings
    app.state.directory = directory
    # Conversations, rate limits: in memory, or in Redis for several workers.
    app.state.shared = build_shared_state(settings)
    # Invalid rules stop the start with every problem listed (RulesError).
    app.state.orienter = Orienter(directory, settings.rules_dir)
    app.state.understander = Understander(directory, settings.model_dir)
    app.state.dialogue = Dialogue(directory, app.state.orienter, app.state.understander, app.state.shared.store)
    emergency_contacts(app)  # computed once now, so that it is known even if the rules fail later
    install_error_handlers(app)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy):
        return JSONResponse({"detail": exc.message}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception):
        # Starlette re-raises after this answer: the server logs it (web.logs: type and place only).
        return JSONResponse({"detail": "Erreur interne : réessayez dans un instant." + _emergency_hint(app)},
                            status_code=500)

    app.include_router(api_directory.router)
    app.include_router(api_orientation.router)
    app.include_router(api_understand.router)
    app.include_router(api_chat.router)
    app.include_router(api_hsds.router)
    app.include_router(pages.router)
    app.include_router(pro.router)
    app.include_router(admin.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app
