"""The referral search for professionals (/pro) and the anonymous "signaler une erreur".

/pro is a plain GET form: it works without JavaScript (pro.js only adds commune
suggestions, printing and copying). It asks the same rules engine as the chat
(situation, commune, needs) or the directory search (free text). The rules' answer
is shown as a plan, as in the chat: "À contacter d'abord", then the need groups and
"Voir tous les contacts" as <details> (which open and close without JavaScript;
`?tout=1` renders every group open), the steps, and "En cas de danger". Pro-only entries
are shown to logged-in staff only; confidential addresses are never shown here.
"""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from directory import DirectoryError
from directory.editing import REPORT_KINDS, EditError, report_error
from directory.services import contact
from rules import RequestError, build_request

from .errors import ApiError
from .pages import emergency_contacts
from .staff import StaffDenied, StaffRoute, check_same_site, client_key, current_user, format_hours, render

__all__ = ["router", "resolve_commune_text", "plan_view", "MAX_TEXT", "MAX_RESULTS"]

router = APIRouter(route_class=StaffRoute)
MAX_TEXT = 200
MAX_RESULTS = 30
REPORTS_PER_CLIENT = 20  # within REPORT_WINDOW seconds, in memory only
REPORT_WINDOW = 10 * 60
_POSTAL_SUFFIX = re.compile(r"^(.*?)\s*\(?\b(\d{5})\)?\s*$")
# Titles of the two groups every plan may have, for a result that does not name them.
PLAN_TITLES = {"first": "À contacter d'abord", "more": "Voir tous les contacts"}
MORE_ON_PAPER = "Autres contacts"  # "voir tous les contacts" means nothing on paper
FIRST_AT_MOST = 3  # the plan contract: at most three contacts "à contacter d'abord"


def resolve_commune_text(directory, text: str):
    """(commune, French problem, candidates). Accepts "Chauny", "02300", "Chauny (02300)"."""
    if not text:
        return None, None, []
    res = directory.resolve_commune(text)
    m = _POSTAL_SUFFIX.match(text)
    if res.status in ("not_found", "ambiguous") and m and m[1]:
        # "Name (postal code)", as the suggestions show it: the name, narrowed by the code.
        by_name = directory.resolve_commune(m[1])
        options = [by_name.commune] if by_name.found else [c.commune for c in by_name.candidates or []]
        options = [c for c in options if m[2] in c.postal_codes]
        if len(options) == 1:
            return options[0], None, []
    if res.found:
        return res.commune, None, []
    if res.status == "ambiguous":
        return None, f"« {text} » peut désigner plusieurs communes : choisissez-en une.", \
            [c.commune for c in res.candidates[:8]]
    if res.status == "out_of_area":
        return None, f"« {text} » n'est pas dans le territoire couvert par cet annuaire (l'Aisne).", []
    return None, f"Commune « {text} » introuvable : vérifiez l'orthographe, ou donnez le code postal.", []


def _card(directory, c: dict, include_pro: bool) -> dict:
    s = directory.service(c["id"], include_pro=include_pro)
    return {**c, "organization": s.organization, "access": s.access, "pro_only": s.visibility != "public",
            "address": s.public_address(), "confidential_address": s.confidential_address,
            "hours_text": format_hours(c.get("hours")),
            "phones": [{"display": p.display, "link": p.sms if p.type == "sms" else p.tel, "type": p.type}
                       for p in s.phones]}


def plan_view(result, cards: list[dict], need_labels: dict[str, str], danger_cards: list[dict]) -> dict:
    """The plan of an orientation as the page shows it.

    Reads what the rules give (rules/plan.py, the plan contract): `result.groups` (codes
    and titles in display order), `contact["group"]` on each contact, `result.steps`
    and `result.if_danger`. A result without them (rules older than the plan) still
    reads as a plan: its first three contacts "first", the rest "more". A contact whose
    group is missing or unknown goes to "more": the page never drops a contact.
    Returns {"first": group|None, "needs": [group], "more": group|None,
    "steps": [{text, contact|None}], "if_danger": danger_cards}, a group being {code, title, cards}."""
    declared = [g for g in (getattr(result, "groups", None) or []) if isinstance(g, dict) and g.get("code")]
    titles = {g["code"]: g.get("title") or PLAN_TITLES.get(g["code"]) or need_labels.get(g["code"], g["code"])
              for g in declared}
    groups: dict[str, dict] = {}
    for i, card in enumerate(cards):
        code = card.get("group")
        if not declared and not code:
            code = "first" if i < FIRST_AT_MOST else "more"
        if code not in (titles if declared else {**PLAN_TITLES, **need_labels}):
            code = "more"
        title = titles.get(code) or PLAN_TITLES.get(code) or need_labels.get(code, code)
        groups.setdefault(code, {"code": code, "title": title, "cards": []})["cards"].append(card)
    order = [g["code"] for g in declared]
    needs = [groups[c] for c in order if c in groups and c not in PLAN_TITLES]
    needs += [g for c, g in groups.items() if c not in order and c not in PLAN_TITLES]
    steps = []
    for step in getattr(result, "steps", None) or []:
        # a step is a text, or {"text", "service", "contact"?}: the service through which one does it
        text = step if isinstance(step, str) else (step.get("text") if isinstance(step, dict) else None)
        contact = step.get("contact") if isinstance(step, dict) and isinstance(step.get("contact"), dict) else None
        if text:
            steps.append({"text": text, "contact": contact})
    return {"first": groups.get("first"), "needs": needs, "more": groups.get("more"),
            "steps": steps, "if_danger": danger_cards}


def _step_reach(step: dict) -> str:
    """" (name : phone)" after a step done through a service, as the plain-text plan writes it."""
    c = step.get("contact") or {}
    how = c.get("phone_display") if c.get("phone") else (f"SMS {c['sms']}" if c.get("sms") else c.get("url"))
    return f" ({c['name']} : {how})" if c.get("name") and how else ""


def _copy_text(cards: list[dict], plan: dict | None = None) -> str:
    """The contacts as plain text, for the clipboard (or to select by hand without JS);
    with a plan, under its group titles, then its steps."""
    if plan:
        parts = []
        for group in [plan["first"], *plan["needs"], plan["more"]]:
            shown = [c for c in (group or {}).get("cards", []) if not c["pro_only"]]
            if shown:
                title = MORE_ON_PAPER if group["code"] == "more" else group["title"]
                parts.append(title + "\n\n" + _copy_text(shown))
        if plan["steps"]:
            parts.append("Ce que vous pouvez faire\n" + "\n".join("- " + s["text"] + _step_reach(s) for s in plan["steps"]))
        return "\n\n".join(parts)
    lines = []
    for c in cards:
        lines.append(c["name"])
        for p in c["phones"]:
            lines.append(("  SMS : " if p["type"] == "sms" else "  Tél. : ") + p["display"])
        if c["hours_text"]:
            lines.append("  Horaires : " + c["hours_text"])
        if c.get("url"):
            lines.append("  Site : " + c["url"])
        if c["address"]:
            a = c["address"]
            lines.append("  Adresse : " + ", ".join(x for x in (a.get("street"), a.get("postal_code"), a.get("city")) if x))
        lines.append("")
    return "\n".join(lines).strip()


@router.get("/pro", response_class=HTMLResponse, include_in_schema=False)
async def pro_page(request: Request):
    app, params = request.app, request.query_params
    directory, vocabulary = app.state.directory, app.state.directory.vocabulary
    user = current_user(request)
    include_pro = user is not None  # every active account is at least "lecteur"
    form = {"commune": params.get("commune", "").strip(), "situation": params.get("situation", ""),
            "besoin": params.getlist("besoin"), "q": params.get("q", "").strip()}
    expand_all = params.get("tout") == "1"
    errors: dict[str, str] = {}
    for name in ("commune", "q"):
        if len(form[name]) > MAX_TEXT:
            errors[name] = f"Texte trop long : {MAX_TEXT} caractères au plus."
    if form["situation"] and form["situation"] not in vocabulary.situations:
        errors["situation"] = "Situation inconnue : choisissez-la dans la liste."
    if any(n not in vocabulary.needs for n in form["besoin"]):
        errors["besoin"] = "Besoin inconnu : cochez-les dans la liste."
    commune, candidates = None, []
    if "commune" not in errors:
        commune, problem, candidates = resolve_commune_text(directory, form["commune"])
        if problem:
            errors["commune"] = problem
    searched = any((form["commune"], form["situation"], form["besoin"], form["q"]))
    cards, rules, mode, total, plan = [], [], None, 0, None
    if searched and not errors:
        insee = commune.insee if commune else None
        try:
            if form["q"]:
                mode = "texte"
                hits, total = directory.search(form["q"], commune=insee, situation=form["situation"] or None,
                                               include_pro=include_pro, per_page=MAX_RESULTS)
                cards = [_card(directory, contact(h.service, h.why(vocabulary)), include_pro) for h in hits]
            else:
                mode = "regles"
                req = build_request(vocabulary, situation=form["situation"] or None, commune=insee,
                                    needs=form["besoin"])
                result = app.state.orienter.orient(req, include_pro=include_pro)
                cards = [_card(directory, c, include_pro) for c in result.contacts]
                total = len(cards)
                danger = [_card(directory, c, include_pro) for c in getattr(result, "if_danger", None) or []]
                plan = plan_view(result, cards, vocabulary.needs, danger)
                ruleset = app.state.orienter.ruleset
                rules = [ruleset.by_id(r) for r in result.orientation.rules]
        except (DirectoryError, RequestError) as exc:
            errors["q"] = str(getattr(exc, "message", exc))
    return render(request, "pro.html", {
        "form": form, "errors": errors, "commune": commune, "candidates": candidates,
        "searched": searched and not errors, "mode": mode, "cards": cards, "total": total, "rules": rules,
        "copy_text": _copy_text([c for c in cards if not c["pro_only"]], plan),
        "plan": plan, "expand_all": expand_all, "expand_links": _expand_links(request),
        "situations": vocabulary.situations, "needs": vocabulary.needs, "report_kinds": REPORT_KINDS,
        "emergency": emergency_contacts(app), "reported": params.get("signale") == "1",
        "back": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    })


def _expand_links(request: Request) -> dict[str, str]:
    """This search with every group open (?tout=1), and with the groups as they come."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in ("tout", "signale")]
    path = request.url.path
    return {"open": f"{path}?{urlencode(query + [('tout', '1')])}#results",
            "closed": f"{path}?{urlencode(query)}#results" if query else f"{path}#results"}


def _report(request: Request, service_id, kind) -> None:
    """Store one anonymous report, or raise ApiError (422/429) with a French message."""
    limiter = getattr(request.app.state, "report_limiter", None)
    if limiter is None:
        limiter = request.app.state.report_limiter = request.app.state.shared.limiter(
            "report", REPORTS_PER_CLIENT, REPORT_WINDOW)
    key = client_key(request)
    if limiter.retry_after(key):
        raise ApiError(429, "Trop de signalements d'un coup : réessayez dans quelques minutes.")
    if not isinstance(service_id, str) or not service_id or len(service_id) > 100:
        raise ApiError(422, "Champ « service_id » : l'identifiant du service est attendu.", "service_id")
    if kind not in REPORT_KINDS:
        raise ApiError(422, f"Champ « kind » : type d'erreur inconnu (possibles : {', '.join(REPORT_KINDS)}).", "kind")
    directory = request.app.state.directory
    try:
        # The public may only report what it can see; staff may report pro-only entries too.
        directory.service(service_id, include_pro=current_user(request) is not None)
        report_error(directory, service_id, kind)
    except (EditError, DirectoryError):
        raise ApiError(422, f"Champ « service_id » : aucun service « {service_id} » dans l'annuaire.", "service_id") from None
    limiter.hit(key)


_REPORT_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "additionalProperties": False, "required": ["service_id", "kind"],
    "properties": {"service_id": {"type": "string", "minLength": 1, "maxLength": 100},
                   "kind": {"type": "string", "enum": list(REPORT_KINDS)}}}}}},
    "responses": {"403": {"description": "Envoyé depuis un autre site"},
                  "422": {"description": "Champ manquant ou inconnu (message en français)"},
                  "429": {"description": "Trop de signalements d'un coup"}}}


@router.post("/api/signalements", status_code=204, tags=["annuaire"], openapi_extra=_REPORT_BODY,
             summary="Signaler une erreur sur un service (anonyme, sans texte libre)",
             description="Corps : {\"service_id\": \"...\", \"kind\": \"telephone|horaires|adresse|ferme|autre\"}. "
                         "Aucun texte libre, rien sur la personne ; réponse 204 sans corps.")
async def signalement(request: Request):
    # JSON only: a form on another site cannot send it without a CORS preflight.
    try:
        check_same_site(request)
    except StaffDenied:
        raise ApiError(403, "Signalement refusé : il doit être envoyé depuis ce site.") from None
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise ApiError(422, "Le corps de la requête doit être du JSON : {\"service_id\": \"...\", \"kind\": \"...\"}.")
    raw = await request.body()
    if len(raw) > 1024:
        raise ApiError(413, "Requête trop volumineuse.")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(422, "Le corps de la requête doit être du JSON : {\"service_id\": \"...\", \"kind\": \"...\"}.") from None
    if not isinstance(body, dict) or set(body) - {"service_id", "kind"}:
        raise ApiError(422, "Seuls les champs « service_id » et « kind » sont acceptés.")
    _report(request, body.get("service_id"), body.get("kind"))
    return Response(status_code=204)


@router.post("/pro/signalement", include_in_schema=False)
async def signalement_form(request: Request):
    """The same report from /pro without JavaScript: back to the search, with a thank-you."""
    check_same_site(request)
    form = await request.form()
    back = form.get("back") if isinstance(form.get("back"), str) else "/pro"
    if not back.startswith("/pro") or "//" in back or "\\" in back:
        back = "/pro"
    try:
        _report(request, form.get("service_id"), form.get("kind"))
    except ApiError as exc:
        return render(request, "admin/denied.html", {"message": exc.detail, "back": back}, status=exc.status)
    path, _, query = back.partition("?")
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "signale"] + [("signale", "1")]
    return RedirectResponse(f"{path}?{urlencode(params)}", status_code=303)
