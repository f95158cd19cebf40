"""HSDS 3.0 import: the inverse of `hsds.export`.

It reads a `/services`-shaped page (`{"contents": [service, ...]}`, fully nested
services as our export writes them, or a bare list of services) and turns each
service back into an entry of data/services.yaml's shape, through the mapping
written in hsds.py's docstring: attributes give the situations, category, publics,
emergency, source (by title), a_verifier, the confidentiality flag and our id;
`service_areas` give the territories (by their INSEE codes in `extent`, else by
name); phones come back from E.164; `schedules[0].description` is the OSM string.

Every service is checked with the loader's own rules; problems are collected
(service, field, French message) and nothing is written unless all services are
valid. Then, in one transaction, each entry is created or updated in place (by
its id), with audit rows. Entries not in the file are left alone: an HSDS file
holds public data only, and pro-only entries must survive an import.
Closures and the `alert` text are not imported (they are staff decisions).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .db import write_transaction
from .editing import _fresh, service_entry, write_service
from .errors import LoadError, Problem
from .hsds import FEES, hsds_id
from .loader import validate_service
from .repository import Directory

__all__ = ["HsdsPlan", "plan_hsds", "apply_hsds"]

_COSTS = {v: k for k, v in FEES.items()}
_PHONE_TYPES = {"voice": "voice", "text": "sms"}


@dataclass
class HsdsPlan:
    file: str
    rows: list[dict] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"services": len(self.rows), "created": len(self.created), "changed": len(self.changed),
                "unchanged": len(self.unchanged)}


def _phone(number: str) -> str:
    return "0" + number[3:] if number.startswith("+33") else number


def _areas(directory: Directory, areas: list, problems: list[str]) -> list[str]:
    snap = directory.snapshot
    members: dict[str, frozenset[str]] = {}
    for insee, tids in snap.commune_territories.items():
        for t in tids:
            members.setdefault(t, set()).add(insee)
    by_members: dict[frozenset[str], list[str]] = {}
    for t, codes in members.items():
        by_members.setdefault(frozenset(codes), []).append(t)
    out = []
    for a in areas or []:
        name, extent = a.get("name"), a.get("extent")
        candidates = [t for t in snap.territories.values() if t.name == name]
        if extent:
            same = by_members.get(frozenset(extent.split()), [])
            candidates = [t for t in candidates if t.id in same] or [snap.territories[t] for t in same]
        if len(candidates) != 1:
            kinds = {t.kind for t in candidates}
            # a name shared by a national and a département territory cannot happen; else say so
            problems.append(f"zone « {name} » : {'inconnue' if not candidates else 'ambiguë'} dans cet annuaire"
                            + (f" ({', '.join(sorted(kinds))})" if candidates else ""))
            continue
        if candidates[0].id not in out:
            out.append(candidates[0].id)
    return out


def entry_from_hsds(directory: Directory, s: dict, problems: list[str]) -> dict:
    """One HSDS service back to the shape of data/services.yaml."""
    attrs: dict[str, list] = {}
    for a in s.get("attributes") or []:
        term = a.get("taxonomy_term") or {}
        detail = (term.get("taxonomy_detail") or {}).get("name") or term.get("taxonomy")
        attrs.setdefault(detail, []).append((term.get("code"), a.get("value")))
    directory_terms = dict(attrs.get("Annuaire", []))
    sources = {r["title"]: r["id"] for r in directory.sources()}
    source_title = directory_terms.get("source")
    if source_title and source_title not in sources:
        problems.append(f"source « {source_title} » absente de cet annuaire (ajoutez-la à data/sources.yaml)")
    location = next(iter(s.get("service_at_locations") or []), {}).get("location") or {}
    address = next(iter(location.get("addresses") or []), None)
    schedule = next(iter(s.get("schedules") or []), {})
    org = s.get("organization") or {}
    categories = [c for c, _ in attrs.get("Catégories", [])]
    return {
        "id": directory_terms.get("identifiant"),
        "name": s.get("name"), "organization": org.get("name"), "category": categories[0] if categories else None,
        "description": s.get("description"),
        "phones": [{"number": _phone(p.get("number") or ""), "type": _PHONE_TYPES.get(p.get("type"), p.get("type"))}
                   for p in s.get("phones") or []],
        "url": s.get("url"), "email": s.get("email"),
        "situations": [c for c, _ in attrs.get("Situations", [])],
        "publics": {"ages": [c for c, _ in attrs.get("Âges", [])], "roles": [c for c, _ in attrs.get("Publics", [])],
                    "genders": [c for c, _ in attrs.get("Genres", [])]},
        "area": _areas(directory, s.get("service_areas"), problems),
        "address": ({"street": address.get("address_1") or None, "postal_code": address.get("postal_code") or None,
                     "city": address.get("city") or None} if address else None),
        "confidential_address": "adresse_confidentielle" in directory_terms,
        "hours": schedule.get("description"), "visibility": "public",
        "cost": _COSTS.get(s.get("fees_description")), "emergency": "urgence" in directory_terms,
        "access": s.get("application_process"), "source": sources.get(source_title),
        "verified_on": s.get("assured_date"), "a_verifier": "a_verifier" in directory_terms,
        "languages": [lang.get("code") for lang in s.get("languages") or [] if isinstance(lang, dict)],
    }


def plan_hsds(directory: Directory, path: str | Path) -> HsdsPlan:
    """Read and check every service of the file; LoadError listing all problems. Changes nothing."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LoadError([Problem("missing_file", path.name, None, None, f"fichier {path} introuvable")]) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise LoadError([Problem("json_syntax", path.name, None, None, f"JSON illisible : {exc}")]) from None
    services = doc.get("contents") if isinstance(doc, dict) else doc
    if not isinstance(services, list):
        raise LoadError([Problem("invalid_file", path.name, None, "contents",
                                 "attendu : une page HSDS {\"contents\": [services…]} ou une liste de services")])
    plan, problems, seen = HsdsPlan(path.name), [], set()
    territories, source_ids = set(directory.snapshot.territories), directory.source_ids()
    for n, s in enumerate(services, 1):
        label = (s.get("name") if isinstance(s, dict) else None) or f"service n° {n}"
        if not isinstance(s, dict) or not s.get("id"):
            problems.append(Problem("invalid_service", path.name, label, "id", "service HSDS sans « id »"))
            continue
        found: list[str] = []
        entry = entry_from_hsds(directory, s, found)
        problems += [Problem("invalid_service", path.name, label, "service_areas", m) for m in found]
        if not entry["id"]:
            problems.append(Problem("missing_field", path.name, label, "attributes",
                                    "l'attribut « identifiant » (taxonomie Annuaire) manque"))
            continue
        if hsds_id("service", entry["id"]) != s["id"]:
            problems.append(Problem("invalid_service", path.name, entry["id"], "id",
                                    "l'id HSDS ne correspond pas à l'identifiant de l'annuaire"))
        if entry["id"] in seen:
            problems.append(Problem("duplicate_id", path.name, entry["id"], "id", "service en double"))
        seen.add(entry["id"])
        row, found_problems = validate_service(entry, directory.vocabulary, territories, source_ids, path.name)
        problems += found_problems
        if row and not found:
            current = _fresh(directory, row["id"])
            if current is not None:  # HSDS holds public data only: it never changes who may see an entry
                row["visibility"] = entry["visibility"] = current.visibility
            plan.rows.append(row)
            if current is None:
                plan.created.append(row["id"])
            elif service_entry(current) != entry:
                plan.changed.append(row["id"])
            else:
                plan.unchanged.append(row["id"])
    if problems:
        raise LoadError(problems)
    return plan


def apply_hsds(directory: Directory, plan: HsdsPlan, username: str) -> dict[str, int]:
    """Create or update the plan's entries in one transaction, audited under `username`."""
    with write_transaction(directory.db):
        for row in plan.rows:
            if row["id"] in plan.unchanged:
                continue
            write_service(directory, row, _fresh(directory, row["id"]), username)
    directory.invalidate()
    return plan.counts()
