"""The staff edit form and a directory entry, both ways: what the page shows for a
stored entry, what a person typed (kept as typed to show it again), and the entry
to save with the problems found before the loader's own validation."""
from __future__ import annotations

import re

from directory import DirectoryError, fold, parse_phone
from directory.loader import validate_service

from .pro import resolve_commune_text

__all__ = ["TEXT_LIMITS", "choices", "values_from_entry", "values_from_form", "entry_from_values", "all_problems",
           "phone_rows_invalid"]

TEXT_LIMITS = {"id": 80, "name": 200, "organization": 200, "description": 4000, "url": 500, "email": 254, "hours": 300,
               "access": 500, "street": 200, "city": 100}


def choices(directory) -> dict:
    v = directory.vocabulary
    territories = sorted((t for t in directory.snapshot.territories.values() if t.kind != "commune"),
                         key=lambda t: (t.rank, t.name))
    return {"categories": v.categories, "situations": v.situations, "age_groups": v.age_groups, "genders": v.genders,
            "roles": {k: r for k, r in v.roles.items()},
            "sources": directory.sources(),
            "territories": territories}


def values_from_entry(entry: dict, version: int | None) -> dict:
    """The form's values for a stored entry (see `entry_from_values` for the way back)."""
    address = entry.get("address") or {}
    return {
        **{k: entry.get(k) or "" for k in ("id", "name", "organization", "category", "description", "url",
                                           "email", "hours", "access", "source")},
        "phone_number": [p["number"] for p in entry.get("phones", [])],
        "phone_type": [p["type"] for p in entry.get("phones", [])],
        "situations": list(entry.get("situations", [])),
        "ages": list((entry.get("publics") or {}).get("ages", [])),
        "roles": list((entry.get("publics") or {}).get("roles", [])),
        "genders": list((entry.get("publics") or {}).get("genders", [])),
        "area": "\n".join(entry.get("area", [])),
        "street": address.get("street") or "", "postal_code": address.get("postal_code") or "",
        "city": address.get("city") or "",
        "confidential_address": bool(entry.get("confidential_address")),
        "visibility": entry.get("visibility") or "public", "cost": entry.get("cost") or "",
        "emergency": bool(entry.get("emergency")), "verified_on": str(entry.get("verified_on") or ""),
        "a_verifier": bool(entry.get("a_verifier")), "version": "" if version is None else str(version),
    }


def values_from_form(form) -> dict:
    """What the person typed, kept as typed to show the form again."""
    text = lambda k: str(form.get(k) or "")  # noqa: E731
    # Empty phone rows are dropped (the form always adds two blank ones).
    numbers, kinds = [str(x) for x in form.getlist("phone_number")], [str(x) for x in form.getlist("phone_type")]
    phones = [(n, kinds[i] if i < len(kinds) else "voice") for i, n in enumerate(numbers[:20]) if n.strip()]
    return {
        **{k: text(k).strip() for k in ("id", "name", "organization", "category", "url", "email", "hours", "access",
                                        "source", "street", "postal_code", "city", "visibility", "cost",
                                        "verified_on", "version")},
        "description": text("description").strip(), "area": text("area"),
        "phone_number": [n for n, _ in phones], "phone_type": [k for _, k in phones],
        "situations": [str(x) for x in form.getlist("situations")],
        "ages": [str(x) for x in form.getlist("ages")], "roles": [str(x) for x in form.getlist("roles")],
        "genders": [str(x) for x in form.getlist("genders")],
        "confidential_address": form.get("confidential_address") == "1",
        "emergency": form.get("emergency") == "1", "a_verifier": form.get("a_verifier") == "1",
    }


def _resolve_area(directory, raw: str) -> tuple[list[str], list[str]]:
    """Territory ids, territory names or communes (name, postal code), one per line or
    separated by commas: the territory ids, and a French problem for each unknown."""
    snap = directory.snapshot
    by_name = {fold(t.name): t.id for t in snap.territories.values() if t.kind != "commune"}
    prefixes = {tid.split("-", 1)[0] for tid in snap.territories if "-" in tid}
    ids, problems = [], []
    for token in (t.strip() for t in re.split(r"[\n,;]+", raw)):
        if not token:
            continue
        if token in snap.territories:
            found = token
        elif fold(token) in by_name:
            found = by_name[fold(token)]
        elif re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)+", token) and token.split("-", 1)[0] in prefixes:
            problems.append(f"« {token} » : territoire inconnu.")
            continue
        else:
            commune, _, candidates = resolve_commune_text(directory, token)
            if candidates:
                names = ", ".join(f"{c.name} ({c.insee})" for c in candidates[:5])
                problems.append(f"« {token} » : plusieurs communes possibles ({names}) ; écrivez commune-<code INSEE>.")
                continue
            if commune is None or f"commune-{commune.insee}" not in snap.territories:
                problems.append(f"« {token} » : commune ou territoire inconnu dans l'annuaire.")
                continue
            found = f"commune-{commune.insee}"
        if found not in ids:
            ids.append(found)
    return ids, problems


def entry_from_values(directory, values: dict) -> tuple[dict, dict[str, list[str]]]:
    """The entry to save (the shape of data/services.yaml) and the problems found before
    validation: lengths, postal code, area. `save_service` validates the rest."""
    problems: dict[str, list[str]] = {}
    for name, limit in TEXT_LIMITS.items():
        if len(values.get(name) or "") > limit:
            problems.setdefault("address" if name in ("street", "city") else name, []).append(
                f"texte trop long ({limit} caractères au plus).")
    phones = [{"number": n.strip(), "type": t if t in ("voice", "sms") else "voice"}
              for n, t in zip(values["phone_number"], values["phone_type"] + ["voice"] * 20) if n.strip()]
    area, area_problems = _resolve_area(directory, values["area"])
    if area_problems:
        problems["area"] = area_problems
    address = None
    if any(values[k] for k in ("street", "postal_code", "city")):
        address = {"street": values["street"] or None, "postal_code": values["postal_code"] or None,
                   "city": values["city"] or None}
        if values["postal_code"] and not re.fullmatch(r"\d{5}", values["postal_code"]):
            problems.setdefault("address", []).append("le code postal doit avoir 5 chiffres.")
    entry = {
        "id": values["id"], "name": values["name"], "organization": values["organization"] or None,
        "category": values["category"] or None, "description": values["description"], "phones": phones,
        "url": values["url"] or None, "email": values["email"] or None, "situations": values["situations"],
        "publics": {"ages": values["ages"], "roles": values["roles"], "genders": values["genders"]},
        "area": area, "address": address,
        "confidential_address": values["confidential_address"], "hours": values["hours"] or None,
        "visibility": values["visibility"] or "public", "cost": values["cost"] or None,
        "emergency": values["emergency"], "access": values["access"] or None, "source": values["source"] or None,
        "verified_on": values["verified_on"] or None, "a_verifier": values["a_verifier"],
    }
    return entry, problems


def all_problems(directory, entry: dict, early: dict[str, list[str]]) -> dict[str, list[str]]:
    """The early problems plus what the loader's own validation says (one pass: every
    field's problem shown at once)."""
    _, found = validate_service(entry, directory.vocabulary, set(directory.snapshot.territories),
                                directory.source_ids(), "formulaire")
    merged = {k: list(v) for k, v in early.items()}
    for p in found:
        if p.field == "area" and "area" in early:
            continue
        merged.setdefault(p.field or "_", []).append(p.message)
    return merged


def phone_rows_invalid(values: dict) -> list[bool]:
    """Which phone rows hold the invalid numbers (to mark those fields only)."""
    flags = []
    for number, kind in zip(values["phone_number"], values["phone_type"] + ["voice"] * 20):
        try:
            flags.append(bool(number.strip()) and parse_phone(number, kind if kind in ("voice", "sms") else "voice") is None)
        except DirectoryError:
            flags.append(True)
    return flags
