"""The directory as Open Referral HSDS 3.0 JSON: a projection of the tables, public data only.

Only services that are `visibility = public` and `status = active` are projected
(`service_to_hsds` refuses the others), and an address whose location is
confidential never leaves the database: HSDS has no such flag, so the filter is here.

Identifiers: HSDS wants UUIDs. Each object gets a UUID 5 derived from `NAMESPACE`
and our stable key (`service:<id>`, `organization:<id>`, …), so ids survive reloads;
the directory's own id stays readable as the attribute `annuaire:identifiant`.

Field mapping (directory → HSDS `service`):
- id, name, description, url → same names; status → `status`, except during a
  temporary closure (table service_closure): `temporarily closed`, with the
  dates and reason in `alert` (the chat shows them to the public too). `url` and `email` are left
  out when unknown (HSDS types them `string`, so `null` would not validate:
  absent means unknown).
- organization → `organization` {id, name, description ("" when none is
  stored: HSDS requires the field), website} and `organization_id`.
- access → `application_process`; cost → `fees_description` (French text).
- verified_on → `assured_date`, and `last_modified` (midnight, Paris time): the
  data holds no edit time, and an entry is known unchanged since its check.
- phones → `phones`: `number` in E.164 (`+33323793014`) or the short number as
  dialled (`3919`: short numbers have no international form); `type` voice →
  `voice`, sms → `text` (RFC 6350, as HSDS asks).
- hours (OpenStreetMap `opening_hours`) → one `schedules` entry: the OSM
  string verbatim in `description` (the free text "availability of the
  service"), and in `notes` how to read it (OSM syntax, Paris time, French
  public holidays). The RRULE fields (freq, byday, opens_at…) stay empty: an
  OSM string (`PH off`, `Mo-Fr 08:00-12:00,14:00-17:00`) does not fit them
  without loss.
- area → `service_areas`: `name` = territory name, `description` = its kind and
  the assumption behind it when there is one; `extent` (`extent_type` "text")
  = the INSEE codes of its communes, except for the national and département
  territories, which the name already says (and our commune table only holds the
  Aisne, so a commune list for "France entière" would be wrong).
- situations, category, publics (ages, roles, genders), emergency, source, a_verifier,
  the confidentiality of the address (the flag, never the address), local id → `attributes`, each with its `taxonomy_term` (and `taxonomy_detail`).
- address (only when not confidential) → `service_at_locations[0].location`
  (`location_type` physical) with one `addresses` entry.
"""
from __future__ import annotations

import csv
import math
import uuid
import weakref
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache

from .errors import DirectoryError, NotFound
from .hours import PARIS
from .repository import MAX_PER_PAGE, Directory, Snapshot
from .services import Service
from .vocabulary import DATA_DIR

__all__ = ["NAMESPACE", "HSDS_VERSION", "PROFILE_URL", "OPENAPI_URL", "hsds_id",
           "public_services", "service_to_hsds", "service_summary", "services_page", "service_by_id",
           "api_root", "export"]

# Never change: every published HSDS id is derived from it.
NAMESPACE = uuid.UUID("5b0c4f8e-2d1a-4c67-9f3e-8a4d2b7c1e60")
HSDS_VERSION = "3.0"
# Base HSDS, no profile: the profile URL points to the specification itself.
PROFILE_URL = "https://docs.openreferral.org/en/v3.0/"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json"
PHONE_TYPES = {"voice": "voice", "sms": "text"}
NO_EXTENT = ("national", "departement")
FEES = {"gratuit": "Gratuit.", "prix_appel": "Prix d'un appel normal."}
HOURS_NOTE = ("Horaires au format OpenStreetMap opening_hours "
              "(https://wiki.openstreetmap.org/wiki/Key:opening_hours), heure de Paris, jours fériés français.")
TAXONOMIES = {  # code -> (name, description, link_type)
    "situation": ("Situations", "Situations de victimes pour lesquelles le service aide.", "situation"),
    "categorie": ("Catégories", "Catégorie du service dans l'annuaire.", "category"),
    "public_age": ("Âges", "Âges des personnes reçues.", "eligibility"),
    "public_role": ("Publics", "Personnes à qui le service s'adresse.", "audience"),
    "public_genre": ("Genres", "Genres des personnes reçues, quand le service est réservé à certaines.", "eligibility"),
    "annuaire": ("Annuaire", "Informations propres à l'annuaire d'orientation des victimes.", "annuaire"),
}
DIRECTORY_TERMS = {  # code -> (name, description)
    "identifiant": ("Identifiant dans l'annuaire", "Identifiant stable du service dans l'annuaire (API /api/services/…)."),
    "source": ("Source", "Document ou organisme d'où vient l'information."),
    "urgence": ("Numéro d'urgence", "Service d'urgence, joignable jour et nuit."),
    "a_verifier": ("À revérifier", "Informations à revérifier par l'équipe avant de s'y fier."),
    "adresse_confidentielle": ("Adresse confidentielle",
                               "L'adresse de ce lieu est confidentielle : elle n'est jamais publiée."),
}


def hsds_id(kind: str, key: str) -> str:
    """The stable HSDS UUID of one of our objects."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{key}"))


@dataclass
class _Context:
    """What the projection reads besides the snapshot, computed once per snapshot."""

    organizations: dict[str, dict]  # service id -> organization row
    members: dict[str, list[str]]  # territory id -> INSEE codes
    public: list[Service]
    by_hsds_id: dict[str, str]


_contexts: "weakref.WeakKeyDictionary[Snapshot, _Context]" = weakref.WeakKeyDictionary()


def _context(directory: Directory) -> _Context:
    snap = directory.snapshot
    ctx = _contexts.get(snap)
    if ctx is None:
        orgs = {r["sid"]: r for r in directory.db.query(
            "SELECT s.id AS sid, o.id, o.name, o.description, o.url FROM service s "
            "JOIN organization o ON o.id = s.organization_id")}
        members: dict[str, list[str]] = {}
        for insee, tids in sorted(snap.commune_territories.items()):
            for tid in tids:
                members.setdefault(tid, []).append(insee)
        public = [s for s in sorted(snap.services.values(), key=lambda s: s.id) if s.is_public]
        ctx = _Context(orgs, members, public, {hsds_id("service", s.id): s.id for s in public})
        _contexts[snap] = ctx
    return ctx


def public_services(directory: Directory) -> list[Service]:
    """The services HSDS may show: public and active, by id."""
    return list(_context(directory).public)


@lru_cache(maxsize=1)
def _departements() -> dict[str, str]:
    with (DATA_DIR / "departements.csv").open(encoding="utf-8", newline="") as fh:
        return {r["code"]: r["name"] for r in csv.DictReader(fh)}


def _departement(postal_code: str) -> str:
    deps = _departements()
    return deps.get(postal_code[:3]) or deps.get(postal_code[:2]) or ""


def _term(taxonomy: str, code: str, name: str, description: str) -> dict:
    tax_name, tax_description, _ = TAXONOMIES[taxonomy]
    tax_id = hsds_id("taxonomy", taxonomy)
    return {"id": hsds_id("taxonomy_term", f"{taxonomy}:{code}"), "code": code, "name": name,
            "description": description, "taxonomy": tax_name, "taxonomy_id": tax_id, "language": "fr",
            "taxonomy_detail": {"id": tax_id, "name": tax_name, "description": tax_description}}


def _attributes(directory: Directory, s: Service) -> list[dict]:
    voc = directory.vocabulary
    terms: list[tuple[str, str, str, str, str | None]] = [("annuaire", "identifiant", *DIRECTORY_TERMS["identifiant"], s.id)]
    terms += [("situation", c, voc.situations[c]["label"], voc.situations[c].get("description") or voc.situations[c]["label"], None)
              for c in sorted(s.situations) if c in voc.situations]
    label = voc.categories.get(s.category, s.category)
    terms.append(("categorie", s.category, label, label, None))
    terms += [("public_age", a, voc.age_groups.get(a, a), voc.age_groups.get(a, a), None) for a in s.ages]
    terms += [("public_role", r, voc.roles.get(r, r), voc.roles.get(r, r), None) for r in s.roles]
    terms += [("public_genre", g, voc.genders.get(g, g), voc.genders.get(g, g), None) for g in s.genders]
    if s.emergency:
        terms.append(("annuaire", "urgence", *DIRECTORY_TERMS["urgence"], None))
    if s.source:
        terms.append(("annuaire", "source", *DIRECTORY_TERMS["source"], s.source))
    if s.a_verifier:
        terms.append(("annuaire", "a_verifier", *DIRECTORY_TERMS["a_verifier"], None))
    if s.confidential_address:  # the flag only, never the address
        terms.append(("annuaire", "adresse_confidentielle", *DIRECTORY_TERMS["adresse_confidentielle"], None))
    service_uuid = hsds_id("service", s.id)
    out = []
    for taxonomy, code, name, description, value in terms:
        term = _term(taxonomy, code, name, description)
        attr = {"id": hsds_id("attribute", f"{s.id}:{taxonomy}:{code}"), "link_id": service_uuid,
                "link_type": TAXONOMIES[taxonomy][2], "link_entity": "service",
                "taxonomy_term_id": term["id"], "taxonomy_term": term}
        if value is not None:
            attr["value"] = value
        out.append(attr)
    return out


def _phones(s: Service) -> list[dict]:
    out = []
    for i, p in enumerate(s.phones):
        phone = {"id": hsds_id("phone", f"{s.id}:{i}"), "service_id": hsds_id("service", s.id),
                 "number": p.e164 or p.number, "type": PHONE_TYPES.get(p.type, p.type)}
        if p.is_short:
            phone["description"] = "Numéro court, joignable depuis la France."
        out.append(phone)
    return out


def _areas(directory: Directory, s: Service, ctx: _Context) -> list[dict]:
    out = []
    for tid in s.area:
        t = directory.snapshot.territories.get(tid)
        if t is None:
            continue
        area = {"id": hsds_id("service_area", f"{s.id}:{tid}"), "service_id": hsds_id("service", s.id),
                "name": t.name, "description": t.assumption or t.name}
        codes = ctx.members.get(tid, [])
        if t.kind not in NO_EXTENT and codes:
            area["extent"] = " ".join(codes)
            area["extent_type"] = "text"
            area["description"] = (f"{t.name} : {len(codes)} commune(s), codes INSEE dans « extent »."
                                   + (f" {t.assumption}" if t.assumption else ""))
        out.append(area)
    return out


def _locations(s: Service) -> list[dict]:
    address = s.public_address()  # None when the address is confidential: never published
    if not address or not any(address.values()):
        return []
    location_id = hsds_id("location", s.id)
    postal = address.get("postal_code") or ""
    location = {"id": location_id, "location_type": "physical", "name": s.name, "addresses": [{
        "id": hsds_id("address", s.id), "location_id": location_id, "address_1": address.get("street") or "",
        "city": address.get("city") or "", "state_province": _departement(postal), "postal_code": postal,
        "country": "FR", "address_type": "physical"}]}
    return [{"id": hsds_id("service_at_location", s.id), "service_id": hsds_id("service", s.id),
             "location_id": location_id, "location": location}]


def _organization(ctx: _Context, s: Service) -> dict | None:
    row = ctx.organizations.get(s.id)
    if row is None:
        return None
    org = {"id": hsds_id("organization", row["id"]), "name": row["name"], "description": row["description"] or ""}
    if row["url"]:
        org["website"] = row["url"]
    return org


def _last_modified(verified_on: str | None) -> str | None:
    if not verified_on:
        return None
    return datetime.combine(date.fromisoformat(verified_on), time(0), PARIS).isoformat()


def _closure_alert(s: Service) -> str | None:
    closure = s.closure_on(datetime.now(PARIS).date().isoformat())
    if closure is None:
        return None
    start, end, reason = closure
    return f"Fermé temporairement du {start} au {end}" + (f" : {reason}" if reason else ".")


def _core(ctx: _Context, s: Service) -> dict:
    if not s.is_public:
        raise NotFound(f"aucun service « {s.id} » dans les données ouvertes")
    org = _organization(ctx, s)
    alert = _closure_alert(s)
    fields = {
        "id": hsds_id("service", s.id), "organization_id": org["id"] if org else None, "name": s.name,
        "description": s.description, "url": s.url, "email": s.email, "status": "temporarily closed" if alert else s.status,
        "alert": alert, "application_process": s.access,
        "fees_description": FEES.get(s.cost or ""), "assured_date": s.verified_on,
        "last_modified": _last_modified(s.verified_on), "organization": org,
    }
    return {k: v for k, v in fields.items() if v is not None}


def service_summary(directory: Directory, service: Service) -> dict:
    """The one-to-one fields of a public service (a `/services` list item)."""
    return _core(_context(directory), service)


def service_to_hsds(directory: Directory, service: Service) -> dict:
    """A public service as a fully nested HSDS `service`; NotFound for pro-only or inactive ones."""
    ctx = _context(directory)
    out = _core(ctx, service)
    out["phones"] = _phones(service)
    if service.hours:
        out["schedules"] = [{"id": hsds_id("schedule", service.id), "service_id": out["id"],
                             "description": service.hours, "notes": HOURS_NOTE}]
    out["service_areas"] = _areas(directory, service, ctx)
    out["service_at_locations"] = _locations(service)
    out["attributes"] = _attributes(directory, service)
    if service.languages:  # HSDS `language`: the languages the service speaks (a source says so)
        out["languages"] = [_language(out["id"], service.id, code) for code in service.languages]
    return out


def _language(hsds_service_id: str, service_id: str, code: str) -> dict:
    from babel import Locale

    return {"id": hsds_id("language", f"{service_id}:{code}"), "service_id": hsds_service_id,
            "name": Locale.parse(code).get_display_name("fr"), "code": code}


def service_by_id(directory: Directory, service_id: str) -> dict:
    """A public service by its HSDS UUID or its directory id; NotFound otherwise."""
    ctx = _context(directory)
    sid = ctx.by_hsds_id.get(service_id.lower(), service_id)
    service = directory.snapshot.services.get(sid)
    if service is None or not service.is_public:
        raise NotFound(f"aucun service « {service_id} » dans les données ouvertes")
    return service_to_hsds(directory, service)


def _page(total: int, page: int, per_page: int, contents: list[dict]) -> dict:
    total_pages = math.ceil(total / per_page) if total else 0
    return {"total_items": total, "total_pages": total_pages, "page_number": page, "size": len(contents),
            "first_page": page == 1, "last_page": page >= total_pages, "empty": not contents,
            "contents": contents}


def services_page(directory: Directory, page: int = 1, per_page: int = 50) -> dict:
    """One page of public services in the shape of the HSDS `/services` response."""
    if page < 1:
        raise DirectoryError("la page doit être un nombre supérieur ou égal à 1", code="invalid_page", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise DirectoryError(f"per_page doit être compris entre 1 et {MAX_PER_PAGE}", code="invalid_per_page",
                             field="per_page")
    public = public_services(directory)
    chunk = public[(page - 1) * per_page: page * per_page]
    return _page(len(public), page, per_page, [service_summary(directory, s) for s in chunk])


def api_root() -> dict:
    """The HSDS API root (`/`): version, profile and the OpenAPI document."""
    return {"version": HSDS_VERSION, "profile": PROFILE_URL, "openapi_url": OPENAPI_URL}


def export(directory: Directory) -> dict:
    """The full public export: every public service fully nested, on one page, plus their organizations."""
    contents = [service_to_hsds(directory, s) for s in public_services(directory)]
    organizations = {c["organization"]["id"]: c["organization"] for c in contents if "organization" in c}
    return {**_page(len(contents), 1, max(len(contents), 1), contents),
            "organizations": sorted(organizations.values(), key=lambda o: (o["name"], o["id"]))}
