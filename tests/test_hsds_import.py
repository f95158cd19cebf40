"""HSDS 3.0 import, the inverse of the export: export then import gives the same
directory; a bad file is refused in French and changes nothing; pro-only entries survive."""
from __future__ import annotations

import json
import shutil

import pytest

from directory import Directory, LoadError, connect
from directory.editing import audit_of, save_service, service_entry
from directory.hsds import export
from directory.hsds_import import apply_hsds, plan_hsds

SERVICE_TABLES = ("attribute", "service_area", "service_at_location", "address", "location", "schedule", "phone",
                  "service")


@pytest.fixture
def source(db_path, tmp_path) -> Directory:
    """A writable copy of the session directory, with an address, an e-mail and genders on one entry."""
    path = tmp_path / "source.db"
    shutil.copy(db_path, path)
    d = Directory.open(path)
    s = d.service("reseau-soissonnais")
    entry = service_entry(s)
    entry.update(email="reseau@exemple.fr", hours="Mo-Fr 09:00-12:00; PH off",
                 address={"street": "1 rue de la Paix", "postal_code": "02200", "city": "Soissons"})
    entry["publics"]["genders"] = ["femme"]
    save_service(d, entry, version=s.version, username="setup")
    return d


@pytest.fixture
def empty(db_path, tmp_path) -> Directory:
    """The same communes, territories and sources, and no service."""
    path = tmp_path / "empty.db"
    shutil.copy(db_path, path)
    db = connect(path)
    for table in SERVICE_TABLES:
        db.execute(f"DELETE FROM [{table}]")
    db.conn.commit()
    return Directory.open(path)


def test_export_then_import_gives_the_same_directory(source, empty, tmp_path):
    exported = export(source)
    path = tmp_path / "hsds.json"
    path.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    plan = plan_hsds(empty, path)
    assert plan.counts()["created"] == exported["total_items"] > 50
    apply_hsds(empty, plan, "import-hsds:test")
    assert export(empty) == exported
    # the entries themselves, field by field (public data: pro-only entries are not exported)
    for s in source.snapshot.services.values():
        if s.is_public:
            assert service_entry(empty.service(s.id)) == service_entry(s), s.id
    assert empty.service("hebergement-urgence-femmes-victimes").confidential_address
    assert audit_of(empty, "reseau-soissonnais")[0]["username"] == "import-hsds:test"
    # a second import of the same file changes nothing
    again = plan_hsds(empty, path)
    assert again.counts()["unchanged"] == exported["total_items"] and again.counts()["changed"] == 0


def test_import_updates_in_place_and_keeps_pro_only_entries(source, tmp_path):
    exported = export(source)
    item = next(c for c in exported["contents"] if c["name"].startswith("Réseau du Soissonnais"))
    item["description"] = "Nouvelle description du réseau."
    path = tmp_path / "hsds.json"
    path.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    pro_before = {s.id for s in source.snapshot.services.values() if s.visibility == "pro"}
    plan = plan_hsds(source, path)
    assert plan.changed == ["reseau-soissonnais"]
    apply_hsds(source, plan, "import-hsds:test")
    assert source.service("reseau-soissonnais").description == "Nouvelle description du réseau."
    assert {s.id for s in source.snapshot.services.values() if s.visibility == "pro"} == pro_before


@pytest.mark.parametrize("change,message", [
    (lambda doc: doc["contents"][0].__setitem__("attributes", []), "identifiant"),
    (lambda doc: doc["contents"][0]["phones"].append({"number": "12", "type": "voice"}), "numéro"),
    (lambda doc: doc["contents"][0]["service_areas"].append({"name": "Atlantide"}), "Atlantide"),
    (lambda doc: doc.pop("contents"), "contents"),
])
def test_a_bad_file_is_refused_and_changes_nothing(source, tmp_path, change, message):
    doc = export(source)
    change(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    before = {s.id: service_entry(s) for s in source.snapshot.services.values()}
    with pytest.raises(LoadError) as err:
        plan_hsds(source, path)
    assert message in err.value.message
    assert {s.id: service_entry(s) for s in source.snapshot.services.values()} == before


def test_cli_import_hsds(source, orientation_cli, tmp_path):
    db = source.db.conn.execute("PRAGMA database_list").fetchone()[2]
    path = tmp_path / "hsds.json"
    assert orientation_cli("--db", db, "export", "hsds", path).exit_code == 0
    result = orientation_cli("--db", db, "import", "hsds", path)
    assert result.exit_code == 0 and "Simulation" in result.output and "0 à modifier" in result.output
    result = orientation_cli("--db", db, "import", "hsds", path, "--apply")
    assert result.exit_code == 0 and result.output.startswith("Importé")
