"""POST /webhooks/rest/webhook: the chat, in the Rasa REST channel protocol.

A Rasa REST client works unchanged: {"sender", "message"} in, a JSON array of
{"recipient_id", "text", "buttons"?, "custom"?} out. The message text is never
logged, stored or echoed into an error.
"""
from __future__ import annotations

import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.dialogue import MAX_MESSAGE, contacts_text
from bot.i18n import LANGUAGES, translator
from bot.sessions import SessionsFull

from . import turns
from .errors import ApiError
from .pages import emergency_contacts
from .staff import client_key

__all__ = ["router", "MAX_BODY", "SATURATED", "NEW_CHAT_WINDOW"]

router = APIRouter(tags=["chat"])
log = logging.getLogger("orientation.chat")
MAX_BODY = 16 * 1024  # a 2,000-character message in JSON, with room for escapes
NEW_CHAT_WINDOW = 10 * 60  # ORIENTATION_NEW_CHATS_PER_CLIENT new conversations per client within it
FAILED = ("Un problème technique nous empêche de vous répondre en ce moment. "
          "Si vous êtes en danger, appelez tout de suite :")
SATURATED = ("Le service est saturé en ce moment : réessayez dans quelques minutes. "
             "Si vous êtes en danger, appelez tout de suite :")


@router.get("/webhooks/rest/", summary="État du canal REST (comme Rasa)")
async def status():
    return {"status": "ok"}


_WEBHOOK_DOC = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["sender", "message"],
    "properties": {"sender": {"type": "string", "minLength": 1, "maxLength": 128},
                   "message": {"type": "string", "maxLength": MAX_MESSAGE},
                   "lang": {"type": "string", "enum": list(LANGUAGES),
                            "description": "Langue de la page (facultatif) : prise si la conversation n'en a pas encore."}}}}}},
    "responses": {"200": {"description": "Les messages du bot (canal REST de Rasa)", "content": {"application/json": {
        "schema": {"type": "array", "items": {"type": "object", "required": ["recipient_id"]}}}}}}}


@router.post("/webhooks/rest/webhook", summary="Un message du chat (protocole du canal REST de Rasa)",
             openapi_extra=_WEBHOOK_DOC)
async def webhook(request: Request):
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "Message trop long : écrivez au plus deux mille caractères.", "message")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(422, "Le corps de la requête doit être du JSON : {\"sender\": \"...\", \"message\": \"...\"}.") from None
    if not isinstance(body, dict):
        raise ApiError(422, "Le corps de la requête doit être un objet JSON avec sender et message.")
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > 128:
        raise ApiError(422, "Champ « sender » : un identifiant de conversation (texte, 128 caractères au plus) est attendu.", "sender")
    if not isinstance(message, str):
        raise ApiError(422, "Champ « message » : seul du texte est accepté.", "message")
    if len(message) > MAX_MESSAGE:
        raise ApiError(413, "Message trop long : écrivez au plus deux mille caractères.", "message")
    if "\x00" in message:
        raise ApiError(422, "Champ « message » : ce texte contient des caractères non lisibles.", "message")
    lang = body.get("lang")
    if lang is not None and lang not in LANGUAGES:
        raise ApiError(422, f"Champ « lang » : une de ces langues est attendue : {', '.join(LANGUAGES)}.", "lang")
    if request.app.state.settings.chat_backend == "rasa":
        return JSONResponse(await _through_rasa(request, sender, message))
    try:  # a turn that takes too long (understanding, rules, database stuck): the emergency answer
        replies, used = await turns.run(_engine_turn, request, sender, message, lang)
    except turns.TurnTimeout:
        replies, used = _failed(request, lang), lang or "fr"
    # every reply says the language it is written in (custom.lang)
    return JSONResponse([{"recipient_id": sender, **r, "custom": {**r.get("custom", {}), "lang": used}}
                         for r in replies])


def _failed(request: Request, lang: str | None = None) -> list[dict]:
    contacts = emergency_contacts(request.app)
    return [{"text": contacts_text(translator(lang).gettext(FAILED), contacts),
             "custom": {"contacts": contacts, "emergency": True}}]


def _new_chat_budget(request: Request):
    app = request.app
    if getattr(app.state, "new_chat_limiter", None) is None:
        app.state.new_chat_limiter = app.state.shared.limiter(
            "new-chat", app.state.settings.new_chats_per_client, NEW_CHAT_WINDOW)
    return app.state.new_chat_limiter


def _saturated(request: Request, lang: str | None = None) -> list[dict]:
    """« Service saturé », with the emergency numbers of the directory: never a silent refusal."""
    contacts = emergency_contacts(request.app)
    return [{"text": contacts_text(translator(lang).gettext(SATURATED), contacts),
             "custom": {"contacts": contacts, "emergency": True, "saturated": True}}]


def _engine_turn(request: Request, sender: str, message: str, lang: str | None = None) -> tuple[list[dict], str]:
    """One turn of our dialogue. A new conversation must fit in the store (no live one is
    ever dropped for it) and in the client's budget; a failing store (Redis down)
    answers with the emergency contacts, like any other failure."""
    dialogue = request.app.state.dialogue
    store = dialogue.store
    fallback = lang or "fr"
    try:
        new = sender not in store
        if new:
            budget, client = _new_chat_budget(request), client_key(request)
            if not store.admits(sender) or budget.retry_after(client):
                return _saturated(request, lang), fallback
        replies = dialogue.handle(sender, message, lang=lang)
        used = dialogue.language(sender) if sender in store else fallback
        store.end_turn(sender)
        if new and sender in store:
            budget.hit(client)
        return replies, used
    except SessionsFull:
        return _saturated(request, lang), fallback
    except Exception as exc:  # the type only, never the message
        log.error("chat turn failed (%s): answering with the emergency contacts", type(exc).__name__)
        return _failed(request, used_language(dialogue, sender, fallback)), fallback
    finally:
        # a turn that failed half-way keeps what it changed (as the memory store does), and a
        # store opened for this turn is never left open for the next one
        try:
            store.end_turn(sender)
        except Exception as exc:
            log.error("chat turn: the session could not be saved (%s)", type(exc).__name__)


def used_language(dialogue, sender: str, fallback: str) -> str:
    try:
        return dialogue.language(sender) if sender in dialogue.store else fallback
    except Exception:  # the store itself may be what failed
        return fallback


async def _through_rasa(request: Request, sender: str, message: str) -> list[dict]:
    """The Rasa profile: the same page talks to a Rasa server (same origin for the CSP,
    our size checks first). Rasa sends `custom` as a message of its own: merge it back.
    Any failure answers with the emergency contacts."""
    import httpx

    from bot.rasa_actions import merge_split_messages

    url = request.app.state.settings.rasa_url.rstrip("/") + "/webhooks/rest/webhook"
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            r = await client.post(url, json={"sender": sender, "message": message})
            r.raise_for_status()
            return merge_split_messages(r.json())
    except (httpx.HTTPError, ValueError):
        return [{"recipient_id": sender, **m} for m in request.app.state.dialogue.emergency(sender)]
