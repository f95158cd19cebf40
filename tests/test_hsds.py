"""HSDS 3.0 open data: the export and the `/hsds` API validate against the official
schemas (shared/hsds-3.0), and no pro-only service, inactive service or confidential
address appears in any of their outputs."""
from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from directory import DATA_DIR, Directory, NotFound, connect, load
from directory.editing import add_closure, archive_service
from directory.hsds import export, hsds_id, service_to_hsds, services_page
from web.api_hsds import router
from web.errors import install_error_handlers

SCHEMAS = Path(__file__).resolve().parent.parent.parent / "shared" / "hsds-3.0"
BASE = "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/"
OPENAPI = BASE + "openapi.json"
LIST_RESPONSE = OPENAPI + "#/paths/~1services/get/responses/200/content/application~1json/schema"
ITEM_RESPONSE = OPENAPI + "#/paths/~1services~1{id}/get/responses/200/content/application~1json/schema"
ROOT_RESPONSE = OPENAPI + "#/paths/~1/get/responses/200/content/application~1json/schema"

SECRET_STREET = "Impasse du Refuge Secret"
PRO_NAME = "Ligne Zéphyr réservée aux professionnels"
EXTRA = [
    {"id": "test-adresse-publique", "name": "Permanence test à Laon", "organization": "Association test",
     "category": "aide_victimes", "description": "Une permanence d'essai, avec une adresse publique.",
     "phones": [{"number": "03 23 00 00 01", "type": "voice"}, {"number": "114", "type": "sms"}],
     "url": "https://example.org/permanence", "email": "permanence@example.org", "situations": ["agression", "harcelement"],
     "publics": {"ages": ["adulte"], "roles": ["victime", "proche"], "genders": ["femme"]}, "area": ["arr-022", "commune-02408"],
     "address": {"street": "1 rue de la Paix", "postal_code": "02000", "city": "Laon"},
     "confidential_address": False, "hours": "Mo-Fr 09:00-12:00; PH off", "visibility": "public",
     "cost": "prix_appel", "emergency": False, "access": "Sans rendez-vous.", "source": "staff",
     "verified_on": "2026-01-15", "a_verifier": True},
    {"id": "test-refuge-confidentiel", "name": "Refuge test", "organization": "Association test",
     "category": "hebergement", "description": "Un refuge d'essai dont l'adresse est confidentielle.",
     "situations": ["violences_conjugales"], "area": ["dep-02"],
     "address": {"street": SECRET_STREET, "postal_code": "02100", "city": "Saint-Quentin"},
     "confidential_address": True, "visibility": "public", "source": "staff", "verified_on": "2026-01-15"},
    {"id": "test-pro-seulement", "name": PRO_NAME, "organization": "Organisme réservé aux pros",
     "category": "protection", "description": "Un service d'essai réservé aux professionnels.",
     "phones": ["03 23 00 00 02"], "situations": ["violences_conjugales"], "area": ["dep-02"],
     "address": {"street": "2 rue des Pros", "postal_code": "02200", "city": "Soissons"},
     "visibility": "pro", "source": "staff", "verified_on": "2026-01-15"},
    {"id": "test-archive", "name": "Service test archivé", "category": "aide_victimes",
     "description": "Un service d'essai qui a fermé.", "situations": ["autre"], "area": ["france"],
     "source": "staff", "verified_on": "2026-01-15"},
]


def build_extra_db(tmp: Path) -> Path:
    """The real data/ plus the EXTRA services; one archived, one real service closed for a while."""
    data = tmp / "data"
    shutil.copytree(DATA_DIR, data)
    raw = yaml.safe_load((data / "services.yaml").read_text(encoding="utf-8"))
    raw["services"].extend(EXTRA)
    (data / "services.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    path = tmp / "extra.db"
    load(connect(path), data)
    directory = Directory.open(path, data)
    archive_service(directory, "test-archive", "alice")
    today = date.today()
    add_closure(directory, "reseau-soissonnais", (today - timedelta(days=2)).isoformat(),
                (today + timedelta(days=30)).isoformat(), "travaux", "alice")
    return path


@pytest.fixture(scope="module")
def extra_db(tmp_path_factory) -> Path:
    """A database file with the real data and four test services (public with address,
    confidential address, pro-only, archived), and a temporary closure."""
    return build_extra_db(tmp_path_factory.mktemp("hsds"))


@pytest.fixture(scope="module")
def extra(extra_db) -> Directory:
    """The directory over `extra_db`."""
    return Directory.open(extra_db)


@pytest.fixture(scope="module")
def api(extra):
    """An in-process client of a small app made of the /hsds router over `extra`."""
    app = FastAPI()
    app.state.directory = extra
    install_error_handlers(app)
    app.include_router(router)
    with TestClient(app) as client:
        yield client


class Schemas:
    """Validators for the official HSDS 3.0 schemas, $refs resolved between the local files."""

    def __init__(self, folder: Path):
        resources = [(f"{BASE}compiled/{p.name}", Resource(json.loads(p.read_text(encoding="utf-8")), DRAFT202012))
                     for p in sorted(folder.glob("*.json")) if p.name != "openapi.json"]
        openapi = json.loads((folder / "openapi.json").read_text(encoding="utf-8"))
        # The compiled schemas declare no dialect; the OpenAPI document declares 2020-12 for them.
        assert openapi["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
        resources.append((OPENAPI, Resource(openapi, DRAFT202012)))
        self.registry = Registry().with_resources(resources)
        self.checker = FormatChecker()
        # jsonschema checks these two only with optional packages: check them with the stdlib.
        self.checker.checks("date-time", raises=ValueError)(_is_datetime)
        self.checker.checks("uri", raises=ValueError)(_is_uri)
        self._validators: dict[str, Draft202012Validator] = {}

    def errors(self, instance, ref: str) -> list[str]:
        if ref not in self._validators:
            self._validators[ref] = Draft202012Validator({"$ref": ref}, registry=self.registry,
                                                         format_checker=self.checker)
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in self._validators[ref].iter_errors(instance)]

    def check(self, instance, ref: str) -> None:
        errors = self.errors(instance, ref)
        assert errors == [], errors[:5]


def _is_datetime(value) -> bool:
    return not isinstance(value, str) or ("T" in value and datetime.fromisoformat(value).tzinfo is not None)


def _is_uri(value) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme and " " not in value)


@pytest.fixture(scope="module")
def schemas() -> Schemas:
    """The official HSDS 3.0 schemas from ../shared/hsds-3.0 (skip when absent)."""
    if not (SCHEMAS / "service.json").is_file():
        pytest.skip(f"schémas HSDS 3.0 absents ({SCHEMAS}) : validation officielle non faite")
    return Schemas(SCHEMAS)


# -- validation against the official schemas -------------------------------------------------
def test_full_export_validates(extra, schemas):
    data = export(extra)
    schemas.check(data, LIST_RESPONSE)
    for service in data["contents"]:
        schemas.check(service, BASE + "compiled/service.json")
    for org in data["organizations"]:
        schemas.check(org, BASE + "compiled/organization.json")
    assert data["total_items"] == data["size"] == len(data["contents"]) > 40


def test_export_of_real_data_validates(directory, schemas):
    data = export(directory)
    schemas.check(data, LIST_RESPONSE)
    for service in data["contents"]:
        schemas.check(service, ITEM_RESPONSE)


@pytest.mark.parametrize("change", [
    {"id": "police-secours-17"}, {"email": None}, {"last_modified": "2021-10-19"}, {"status": "open"},
    {"phones": [{"number": "17"}]},
])
def test_validation_catches_what_hsds_forbids(directory, schemas, change):
    service = service_to_hsds(directory, directory.service("police-secours-17"))
    assert schemas.errors({**service, **change}, BASE + "compiled/service.json")


def test_api_responses_validate(api, schemas):
    schemas.check(api.get("/hsds/").json(), ROOT_RESPONSE)
    listing = api.get("/hsds/services", params={"per_page": 7, "page": 2}).json()
    schemas.check(listing, LIST_RESPONSE)
    one = api.get(f"/hsds/services/{listing['contents'][0]['id']}").json()
    schemas.check(one, ITEM_RESPONSE)


# -- what the projection says ------------------------------------------------------------------
def by_local_id(data: dict) -> dict[str, dict]:
    out = {}
    for s in data["contents"]:
        local = next(a["value"] for a in s["attributes"] if a["taxonomy_term"]["code"] == "identifiant")
        out[local] = s
    return out


def test_mapping_of_one_service(extra):
    s = by_local_id(export(extra))["test-adresse-publique"]
    assert s["id"] == hsds_id("service", "test-adresse-publique")
    assert s["url"] == "https://example.org/permanence" and s["email"] == "permanence@example.org"
    assert "email" not in by_local_id(export(extra))["police-secours-17"]  # unknown: absent, never null
    assert s["status"] == "active" and s["assured_date"] == "2026-01-15"
    assert s["last_modified"] == "2026-01-15T00:00:00+01:00"
    assert s["application_process"] == "Sans rendez-vous."
    assert s["organization"]["name"] == "Association test" and s["organization_id"] == s["organization"]["id"]
    assert [(p["number"], p["type"]) for p in s["phones"]] == [("+33323000001", "voice"), ("114", "text")]
    assert s["schedules"][0]["description"] == "Mo-Fr 09:00-12:00; PH off"
    assert "OpenStreetMap" in s["schedules"][0]["notes"]
    areas = {a["name"]: a for a in s["service_areas"]}
    assert set(areas) == {"Arrondissement de Laon", "Laon"}
    assert areas["Laon"]["extent"] == "02408" and areas["Laon"]["extent_type"] == "text"
    assert len(areas["Arrondissement de Laon"]["extent"].split()) > 200
    terms = {(a["taxonomy_term"]["taxonomy"], a["taxonomy_term"]["code"]) for a in s["attributes"]}
    assert {("Situations", "agression"), ("Situations", "harcelement"), ("Catégories", "aide_victimes"),
            ("Âges", "adulte"), ("Publics", "proche"), ("Genres", "femme"), ("Annuaire", "a_verifier")} <= terms
    address = s["service_at_locations"][0]["location"]["addresses"][0]
    assert (address["address_1"], address["postal_code"], address["city"], address["state_province"],
            address["country"]) == ("1 rue de la Paix", "02000", "Laon", "Aisne", "FR")


def test_temporary_closure_is_an_hsds_status(extra, api, schemas):
    s = by_local_id(export(extra))["reseau-soissonnais"]
    assert s["status"] == "temporarily closed"
    assert s["alert"].startswith("Fermé temporairement du ") and s["alert"].endswith(" : travaux")
    schemas.check(s, BASE + "compiled/service.json")
    listed = [c for c in api.get("/hsds/services", params={"per_page": 500}).json()["contents"] if c["id"] == s["id"]]
    assert listed[0]["status"] == "temporarily closed"


def test_national_and_departement_areas_have_no_extent(directory):
    s = service_to_hsds(directory, directory.service("police-secours-17"))
    assert [a["name"] for a in s["service_areas"]] == ["France entière"]
    assert "extent" not in s["service_areas"][0]


def test_ids_are_stable_across_calls(extra):
    assert export(extra) == export(extra)


# -- nothing private leaks ---------------------------------------------------------------------
def private_markers(directory: Directory) -> list[str]:
    """Strings that must never appear in a public output: ids, HSDS ids and names of
    non-public services, and the confidential address with its location id."""
    markers = [SECRET_STREET, json.dumps(hsds_id("location", "test-refuge-confidentiel"))]
    for s in directory.snapshot.services.values():
        if not s.is_public:
            markers += [json.dumps(s.id), json.dumps(hsds_id("service", s.id)), json.dumps(s.name, ensure_ascii=False)]
    return markers


def test_private_services_exist_in_the_test_data(extra):
    services = extra.snapshot.services
    assert services["test-pro-seulement"].visibility == "pro"
    assert services["test-archive"].status == "archived"
    assert services["test-refuge-confidentiel"].address["street"] == SECRET_STREET
    assert sum(not s.is_public for s in services.values()) >= 5


def test_nothing_private_in_any_hsds_output(extra, api):
    outputs = [export(extra), api.get("/hsds/").json()]
    page = 1
    while True:
        listing = api.get("/hsds/services", params={"page": page, "per_page": 7}).json()
        outputs.append(listing)
        if listing["last_page"]:
            break
        page += 1
    for s in export(extra)["contents"]:
        outputs.append(api.get(f"/hsds/services/{s['id']}").json())
    text = json.dumps(outputs, ensure_ascii=False)
    leaks = [m for m in private_markers(extra) if m in text]
    assert leaks == []
    assert sum(len(o["contents"]) for o in outputs[2:2 + page]) == export(extra)["total_items"]


def test_confidential_service_is_listed_without_its_address(extra):
    s = by_local_id(export(extra))["test-refuge-confidentiel"]
    assert s["service_at_locations"] == []


def test_projection_refuses_private_services(extra):
    for sid in ("test-pro-seulement", "test-archive"):
        with pytest.raises(NotFound):
            service_to_hsds(extra, extra.snapshot.services[sid])


# -- endpoints -----------------------------------------------------------------------------------
def test_root(api):
    r = api.get("/hsds/")
    assert r.status_code == 200
    assert r.json()["version"] == "3.0" and r.json()["openapi_url"].endswith("openapi.json")


def test_paging(api, extra):
    total = export(extra)["total_items"]
    first = api.get("/hsds/services", params={"per_page": 10}).json()
    assert (first["page_number"], first["size"], first["total_items"]) == (1, 10, total)
    assert first["first_page"] and not first["last_page"] and first["total_pages"] == -(-total // 10)
    last = api.get("/hsds/services", params={"per_page": 10, "page": first["total_pages"]}).json()
    assert last["last_page"] and last["size"] == total - 10 * (first["total_pages"] - 1)
    beyond = api.get("/hsds/services", params={"per_page": 10, "page": 99}).json()
    assert beyond["empty"] and beyond["contents"] == [] and beyond["total_items"] == total
    assert "phones" not in first["contents"][0]  # list items carry one-to-one fields only
    assert first == services_page(extra, 1, 10)


@pytest.mark.parametrize("params, field", [
    ({"per_page": 0}, "per_page"), ({"per_page": 501}, "per_page"), ({"page": 0}, "page"), ({"page": "deux"}, "page"),
])
def test_bad_paging_is_a_french_422(api, params, field):
    r = api.get("/hsds/services", params=params)
    assert r.status_code == 422
    assert r.json()["field"] == field and f"Champ « {field} »" in r.json()["detail"]


def test_service_by_hsds_id_or_local_id(api):
    a = api.get(f"/hsds/services/{hsds_id('service', 'test-adresse-publique')}")
    b = api.get("/hsds/services/test-adresse-publique")
    assert a.status_code == b.status_code == 200 and a.json() == b.json()


@pytest.mark.parametrize("sid", ["nope", "test-pro-seulement", hsds_id("service", "test-pro-seulement"),
                                 "test-archive", "crip-aisne"])
def test_unknown_or_private_service_is_a_french_404(api, sid):
    r = api.get(f"/hsds/services/{sid}")
    assert r.status_code == 404
    assert r.json() == {"detail": f"Aucun service « {sid} » dans les données ouvertes de l'annuaire."}


# -- command line ---------------------------------------------------------------------------------
def test_cli_export_hsds(orientation_cli, extra_db, extra, tmp_path):
    r = orientation_cli("--db", extra_db, "export", "hsds", tmp_path / "hsds.json")
    assert r.exit_code == 0 and "services publics" in r.output
    assert json.loads((tmp_path / "hsds.json").read_text(encoding="utf-8")) == export(extra)
    r = orientation_cli("--db", extra_db, "export", "hsds", "-")
    assert r.exit_code == 0 and json.loads(r.output) == export(extra)


def test_cli_export_hsds_fails_cleanly(orientation_cli, extra_db, tmp_path):
    r = orientation_cli("--db", extra_db, "export", "hsds", tmp_path / "missing" / "hsds.json")
    assert r.exit_code == 1 and "Impossible d'écrire" in r.output
    r = orientation_cli("--db", tmp_path / "empty.db", "export", "hsds", tmp_path / "hsds.json")
    assert r.exit_code == 1 and "est vide" in r.output
    assert not (tmp_path / "hsds.json").exists()
