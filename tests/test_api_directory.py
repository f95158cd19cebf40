"""The directory's HTTP API: contract shapes, French errors, no pro data."""
from __future__ import annotations


import pytest

from conftest import contract


def test_communes_chateau_thierry_first(client):
    r = client.get("/api/communes", params={"q": "chateau thierry"})
    assert r.status_code == 200
    assert r.json()["communes"][0]["code"] == "02168"


def test_communes_postal_code_lists_soissons(client):
    body = client.get("/api/communes", params={"q": "02200"}).json()
    assert "Soissons" in [c["name"] for c in body["communes"]]
    assert body["status"] == "ambiguous"


def test_communes_out_of_area(client):
    assert client.get("/api/communes", params={"q": "Reims"}).json()["status"] == "out_of_area"


def test_services_for_chauny_and_couple_violence(client):
    body = client.get("/api/services", params={"commune": "02173", "situation": "violences_conjugales"}).json()
    by_id = {s["id"]: s for s in body["services"]}
    assert by_id["violences-femmes-info-3919"]["phone"] == "3919"
    assert by_id["reseau-laon-chauny-la-fere"]["phone_display"] == "03 23 79 30 14"
    assert body["total"] == len(body["services"]) or body["total"] > len(body["services"])


def test_services_are_contacts(client):
    v = contract("contact")
    for s in client.get("/api/services", params={"per_page": 500}).json()["services"]:
        assert list(v.iter_errors(s)) == []


def test_service_by_id_and_404(client):
    assert client.get("/api/services/violences-femmes-info-3919").json()["tel"] == "tel:3919"
    r = client.get("/api/services/nexiste-pas")
    assert r.status_code == 404 and "Aucun service" in r.json()["detail"]


def test_pro_entries_are_hidden(client, directory):
    pro = [s.id for s in directory.snapshot.services.values() if s.visibility == "pro"]
    for sid in pro:
        assert client.get(f"/api/services/{sid}").status_code == 404
    listed = {s["id"] for s in client.get("/api/services", params={"per_page": 500}).json()["services"]}
    assert not listed & set(pro)


def test_confidential_addresses_never_shown(client, directory):
    for s in client.get("/api/services", params={"per_page": 500}).json()["services"]:
        if directory.snapshot.services[s["id"]].confidential_address:
            assert s["address"] is None


@pytest.mark.parametrize("params,field", [
    ({"per_page": 501}, "per_page"), ({"page": 0}, "page"), ({"situation": "violence"}, "situation"),
    ({"commune": "Reims"}, "commune"), ({"commune": "bucy"}, "commune"), ({"commune": "zzzzzz"}, "commune"),
])
def test_errors_are_french_and_name_the_field(client, params, field):
    r = client.get("/api/services", params=params)
    assert r.status_code == 422
    body = r.json()
    assert body["field"] == field and len(body["detail"]) > 20


def test_security_headers(client):
    r = client.get("/api/communes", params={"q": "Laon"})
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "set-cookie" not in r.headers


def test_unknown_route_is_french_json(client):
    r = client.get("/api/nope")
    assert r.status_code == 404 and r.json()["detail"] == "Page introuvable."
