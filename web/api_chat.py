"""POST /webhooks/rest/webhook: the chat, in the Rasa REST channel protocol.

A Rasa REST client works unchanged: {"sender", "message"} in, a JSON array of
{"recipient_id", "text", "buttons"?, "custom"?} out. The message text is never
logged, stored or echoed into an error.
"""
from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.dialogue import MAX_MESSAGE

from .errors import ApiError

__all__ = ["router", "MAX_BODY"]

router = APIRouter(tags=["chat"])
MAX_BODY = 16 * 1024  # a 2,000-character message in JSON, with room for escapes


@router.get("/webhooks/rest/", summary="État du canal REST (comme Rasa)")
async def status():
    return {"status": "ok"}


@router.post("/webhooks/rest/webhook", summary="Un message du chat (protocole du canal REST de Rasa)")
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
    replies = request.app.state.dialogue.handle(sender, message)
    return JSONResponse([{"recipient_id": sender, **r} for r in replies])
