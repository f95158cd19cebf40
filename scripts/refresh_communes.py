#!/usr/bin/env python3
"""Regenerate the commune reference files of one département from the INSEE COG.

Source: the npm package ``@etalab/decoupage-administratif`` (INSEE Code officiel
géographique, DGCL EPCI composition, La Poste postal codes, INSEE legal
population), installed with::

    npm install --prefix scripts

The script reads ``communes.json``, ``epci.json``, ``arrondissements.json`` and
``departements.json`` from ``scripts/node_modules/@etalab/decoupage-administratif/data/``
and writes, in the data directory:

``communes.csv``
    ``insee,name,postal_codes,arrondissement,epci,epci_name,population`` — one
    row per current commune (``type == "commune-actuelle"``) of the département,
    sorted by INSEE code. ``postal_codes`` is space-separated, ``epci`` is the
    SIREN of the EPCI à fiscalité propre whose members include the commune.
``commune_aliases.csv``
    ``alias,insee,kind`` — delegated (``commune-deleguee``) and associated
    (``commune-associee``) communes as aliases of their current commune (the
    ``chefLieu`` field), kind ``deleguee`` / ``associee``. An alias whose name
    equals its current commune's name is skipped.
``communes.meta.yaml``
    source, licence, millésime, generation date, row counts and checksums.

The output is deterministic: same package version, same files (UTF-8, ``\\n``
line endings). ``generated_on`` is kept from the existing meta file when the
CSV content did not change, so a re-run without a new package version leaves
the tree untouched; ``--generated-on`` forces a value.

Only the standard library and PyYAML are needed.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

PACKAGE_NAME = "@etalab/decoupage-administratif"
SCRIPTS_DIR = Path(__file__).resolve().parent
REPO_DIR = SCRIPTS_DIR.parent
DEFAULT_DATA_DIR = REPO_DIR / "data"
DEFAULT_PACKAGE_DIR = SCRIPTS_DIR / "node_modules" / "@etalab" / "decoupage-administratif"

COMMUNE_COLUMNS = ["insee", "name", "postal_codes", "arrondissement", "epci", "epci_name", "population"]
ALIAS_COLUMNS = ["alias", "insee", "kind"]
ALIAS_KINDS = {"commune-deleguee": "deleguee", "commune-associee": "associee"}

# Known count of current communes, used only for a warning (the COG changes
# every year when communes merge, so a different count is not an error).
EXPECTED_COUNTS = {"02": 797}


class RefreshError(Exception):
    """Raised when the source data is missing or does not look right."""


def load_json(path: Path) -> Any:
    """Load a JSON file, with a clear error if the package is not installed."""
    if not path.is_file():
        raise RefreshError(
            f"{path} not found. Install the source package first: "
            "npm install --prefix scripts"
        )
    with path.open(encoding="utf-8") as handle:
        return json.load(handle)


def package_version(package_dir: Path) -> str:
    """Return the installed version of the source package."""
    meta = load_json(package_dir / "package.json")
    if meta.get("name") != PACKAGE_NAME:
        raise RefreshError(f"{package_dir} does not contain {PACKAGE_NAME}")
    return str(meta["version"])


def millesime_from_readme(package_dir: Path, version: str) -> str | None:
    """Find the COG year the package README associates with ``version``.

    The README has a table ``| Année | Version du package | ...`` with one
    row per yearly release (``| 2026 | 6.0.0 | ...``).
    """
    readme = package_dir / "README.md"
    if not readme.is_file():
        return None
    pattern = re.compile(r"^\|\s*(\d{4})\s*\|\s*([^|]+?)\s*\|", re.MULTILINE)
    for year, versions in pattern.findall(readme.read_text(encoding="utf-8")):
        if version in re.split(r"[\s,]+", versions):
            return year
    return None


def epci_by_commune(epcis: Iterable[dict[str, Any]]) -> dict[str, list[tuple[str, str]]]:
    """Map each member commune INSEE code to the EPCI(s) (SIREN, name) listing it."""
    result: dict[str, list[tuple[str, str]]] = {}
    for epci in epcis:
        for member in epci.get("membres", []):
            result.setdefault(member["code"], []).append((epci["code"], epci["nom"]))
    return result


def build_communes(
    communes: list[dict[str, Any]],
    epci_index: dict[str, list[tuple[str, str]]],
    departement: str,
    arrondissement_codes: set[str] | None,
) -> tuple[list[dict[str, str]], list[str]]:
    """Build the ``communes.csv`` rows and a list of warnings."""
    warnings: list[str] = []
    rows: list[dict[str, str]] = []
    for commune in communes:
        if commune.get("type") != "commune-actuelle" or commune.get("departement") != departement:
            continue
        insee = commune["code"]
        arrondissement = commune.get("arrondissement") or ""
        if not arrondissement:
            warnings.append(f"{insee} {commune['nom']}: no arrondissement")
        elif arrondissement_codes is not None and arrondissement not in arrondissement_codes:
            warnings.append(f"{insee} {commune['nom']}: unknown arrondissement {arrondissement}")
        memberships = sorted(set(epci_index.get(insee, [])))
        if not memberships:
            warnings.append(f"{insee} {commune['nom']}: member of no EPCI")
            epci_code, epci_name = "", ""
        else:
            if len(memberships) > 1:
                raise RefreshError(f"{insee} {commune['nom']} is listed in several EPCI: {memberships}")
            epci_code, epci_name = memberships[0]
        postal_codes = sorted(set(commune.get("codesPostaux") or []))
        if not postal_codes:
            warnings.append(f"{insee} {commune['nom']}: no postal code")
        population = commune.get("population")
        rows.append(
            {
                "insee": insee,
                "name": commune["nom"],
                "postal_codes": " ".join(postal_codes),
                "arrondissement": arrondissement,
                "epci": epci_code,
                "epci_name": epci_name,
                "population": "" if population is None else str(int(population)),
            }
        )
    rows.sort(key=lambda row: row["insee"])
    codes = [row["insee"] for row in rows]
    if len(codes) != len(set(codes)):
        raise RefreshError("duplicate INSEE codes among current communes")
    return rows, warnings


def build_aliases(communes: list[dict[str, Any]], current: dict[str, str]) -> list[dict[str, str]]:
    """Build the ``commune_aliases.csv`` rows.

    ``current`` maps the INSEE code of each current commune of the département
    to its name; an alias is kept when its ``chefLieu`` is one of them.
    """
    seen: set[tuple[str, str, str]] = set()
    for commune in communes:
        kind = ALIAS_KINDS.get(commune.get("type", ""))
        if kind is None:
            continue
        parent = commune.get("chefLieu")
        if parent not in current:
            continue
        alias = commune["nom"]
        if alias == current[parent]:
            continue
        seen.add((alias, parent, kind))
    rows = [{"alias": alias, "insee": insee, "kind": kind} for alias, insee, kind in seen]
    rows.sort(key=lambda row: (row["insee"], row["alias"], row["kind"]))
    return rows


ELSEWHERE_COLUMNS = ["name", "departement", "population"]


def build_elsewhere(communes: list[dict[str, Any]], departement: str) -> list[dict[str, str]]:
    """Current communes of the other départements: their names, so that "j'habite à
    Reims" is told apart from a name nobody knows, and their legal population, so that a
    known town ("à Reims") is told apart from a village named like a word or a first name
    ("à Marie", "au Bu")."""
    seen: set[tuple[str, str]] = set()
    rows = []
    for c in communes:
        if c.get("type") != "commune-actuelle" or c.get("departement") in (departement, None):
            continue
        key = (c["nom"], c["departement"])
        if key not in seen:
            seen.add(key)
            population = c.get("population")
            rows.append({"name": c["nom"], "departement": c["departement"],
                         "population": "" if population is None else str(int(population))})
    return sorted(rows, key=lambda r: (r["departement"], r["name"]))


def render_csv(columns: list[str], rows: list[dict[str, str]]) -> str:
    """Render rows as CSV text with ``\\n`` line endings."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def sha256(text: str) -> str:
    """Return the hex SHA-256 of ``text`` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def previous_generated_on(meta_path: Path, checksums: dict[str, str]) -> str | None:
    """Return the existing ``generated_on`` if the CSV checksums are unchanged."""
    if not meta_path.is_file():
        return None
    try:
        previous = yaml.safe_load(meta_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError:
        return None
    files = previous.get("files") or {}
    old = {name: (files.get(name) or {}).get("sha256") for name in checksums}
    if old == checksums and previous.get("generated_on"):
        return str(previous["generated_on"])
    return None


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 text with ``\\n`` line endings, replacing the file atomically."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    tmp.replace(path)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--departement", default="02", help='département code (default: "02", Aisne)')
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help=f"output directory (default: {DEFAULT_DATA_DIR})")
    parser.add_argument(
        "--package-dir",
        type=Path,
        default=DEFAULT_PACKAGE_DIR,
        help=f"installed {PACKAGE_NAME} directory (default: {DEFAULT_PACKAGE_DIR})",
    )
    parser.add_argument("--generated-on", help="force the generated_on date (YYYY-MM-DD)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the extraction; return the process exit code."""
    args = parse_args(argv)
    departement: str = args.departement
    package_dir: Path = args.package_dir
    data_dir: Path = args.data
    source_dir = package_dir / "data"

    try:
        version = package_version(package_dir)
        communes = load_json(source_dir / "communes.json")
        epcis = load_json(source_dir / "epci.json")
        arrondissement_codes: set[str] | None = None
        arrondissements_path = source_dir / "arrondissements.json"
        if arrondissements_path.is_file():
            arrondissement_codes = {
                a["code"] for a in load_json(arrondissements_path) if a.get("departement") == departement
            }
        departement_name = ""
        departements_path = source_dir / "departements.json"
        if departements_path.is_file():
            for item in load_json(departements_path):
                if item.get("code") == departement:
                    departement_name = item["nom"]
            if not departement_name:
                missing = f"département {departement!r} not found in departements.json"
                print(f"warning: {missing}", file=sys.stderr)

        commune_rows, warnings = build_communes(communes, epci_by_commune(epcis), departement, arrondissement_codes)
        print(f"{len(commune_rows)} current communes in département {departement} {departement_name}".rstrip())
        if not commune_rows:
            raise RefreshError(
                f"no current commune found for département {departement!r}: wrong code or unexpected package format"
            )
        expected = EXPECTED_COUNTS.get(departement)
        if expected is not None and len(commune_rows) != expected:
            warnings.append(f"expected {expected} current communes, found {len(commune_rows)} (new COG year?)")

        alias_rows = build_aliases(communes, {row["insee"]: row["name"] for row in commune_rows})
        elsewhere_rows = build_elsewhere(communes, departement)
        print(f"{len(elsewhere_rows)} names of communes elsewhere in France (to recognise out-of-area places)")
        print(f"{len(alias_rows)} aliases (delegated/associated communes)")
    except RefreshError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)

    communes_csv = render_csv(COMMUNE_COLUMNS, commune_rows)
    aliases_csv = render_csv(ALIAS_COLUMNS, alias_rows)
    checksums = {"communes.csv": sha256(communes_csv), "commune_aliases.csv": sha256(aliases_csv)}
    meta_path = data_dir / "communes.meta.yaml"
    generated_on = args.generated_on or previous_generated_on(meta_path, checksums) or dt.date.today().isoformat()
    millesime = millesime_from_readme(package_dir, version)

    meta: dict[str, Any] = {
        "departement": {"code": departement, "name": departement_name},
        "source": {
            "package": PACKAGE_NAME,
            "version": version,
            "url": f"https://www.npmjs.com/package/{PACKAGE_NAME}/v/{version}",
            "repository": "https://github.com/etalab/decoupage-administratif",
            "files": sorted(
                p.name
                for p in (
                    source_dir / "communes.json",
                    source_dir / "epci.json",
                    arrondissements_path,
                    departements_path,
                )
                if p.is_file()
            ),
            "licence": {
                "code": "MIT",
                "data": "Licence Ouverte / Open Licence (Etalab) — INSEE Code officiel géographique, "
                "DGCL composition des EPCI à fiscalité propre, La Poste base officielle des codes postaux, "
                "INSEE populations légales",
            },
        },
        "millesime": millesime or version,
        "millesime_note": (
            f"année {millesime} selon le tableau « Millésimes et versions de package » du README du paquet"
            if millesime
            else "millésime non trouvé dans le README du paquet : version du paquet à la place"
        ),
        "generated_on": generated_on,
        "generated_by": "scripts/refresh_communes.py",
        "files": {
            "communes.csv": {
                "rows": len(commune_rows),
                "columns": COMMUNE_COLUMNS,
                "sha256": checksums["communes.csv"],
            },
            "commune_aliases.csv": {
                "rows": len(alias_rows),
                "columns": ALIAS_COLUMNS,
                "sha256": checksums["commune_aliases.csv"],
            },
        },
    }
    meta_text = "# Generated by scripts/refresh_communes.py — do not edit by hand.\n" + yaml.safe_dump(
        meta, sort_keys=False, allow_unicode=True, width=1000
    )

    data_dir.mkdir(parents=True, exist_ok=True)
    write_text(data_dir / "communes.csv", communes_csv)
    write_text(data_dir / "commune_aliases.csv", aliases_csv)
    write_text(meta_path, meta_text)
    write_text(data_dir / "places_elsewhere.csv", render_csv(ELSEWHERE_COLUMNS, elsewhere_rows))
    if departements_path.is_file():
        deps = [{"code": d["code"], "name": d["nom"]} for d in load_json(departements_path)]
        write_text(data_dir / "departements.csv", render_csv(["code", "name"], sorted(deps, key=lambda d: d["code"])))
    print(f"wrote {data_dir / 'communes.csv'}, {data_dir / 'commune_aliases.csv'}, {meta_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
