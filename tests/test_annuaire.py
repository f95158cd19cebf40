"""Import of the national directory of public services (DILA "base de données locales"):
dry run, apply, in-place updates, conflicts with staff edits, retirements, bad files,
opening hours, and a complaint answered with the local unit. The file is a fixture in
the documented format (tests/data/annuaire-fixture.json: invented units)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from directory import Directory, LoadError
from directory.annuaire import apply_import, opening_hours, plan_import
from directory.editing import audit_of, save_service, service_entry

FIXTURE = Path(__file__).parent / "data" / "annuaire-fixture.json"
BRIGADE = "brigade-de-gendarmerie-chauny-fixture"
SOISSONS = "commissariat-de-police-soissons-fixture"
SAINT_QUENTIN = "commissariat-de-police-saint-quentin-fixture"


@pytest.fixture
def wdir(db_path, tmp_path) -> Directory:
    """A writable copy of the session directory."""
    path = tmp_path / "w.db"
    shutil.copy(db_path, path)
    return Directory.open(path)


def dump(directory: Directory) -> list:
    db = directory.db
    tables = [t for t in db.table_names() if not t.startswith(("service_fts", "_", "sqlite_"))]
    return [(t, sorted(map(tuple, db.execute(f"SELECT * FROM [{t}]").fetchall()))) for t in sorted(tables)]


def imported(wdir, path=FIXTURE, **kw):
    plan = plan_import(wdir, path, file_date="2026-12-01", **kw)
    apply_import(wdir, plan, "import-annuaire:test")
    return plan


def changed_file(tmp_path, change) -> Path:
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    change({r["id"]: r for r in doc["service"]}, doc)
    path = tmp_path / "annuaire-2.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_dry_run_says_what_it_would_do_and_changes_nothing(wdir):
    before = dump(wdir)
    plan = plan_import(wdir, FIXTURE, file_date="2026-12-01")
    assert sorted(p.id for p in plan.added) == [BRIGADE, SAINT_QUENTIN, SOISSONS, "point-justice-de-laon-fixture"]
    assert plan.changed == [] and plan.removed == [] and plan.conflicts == []
    assert any("« 12 34 » illisible" in w for w in plan.warnings)  # a bad number is dropped, and said
    text = "\n".join(plan.lines())
    assert "À ajouter (4)" in text and f"+ {BRIGADE}" in text
    assert dump(wdir) == before


def test_apply_adds_units_with_the_communes_their_record_lists(wdir):
    imported(wdir)
    s = wdir.service(BRIGADE)
    # listed communes of the Aisne only (99999 is not one); the Oise unit and the CAF are not imported
    assert s.area == ("commune-02001", "commune-02173", "commune-02566", "commune-02820")
    assert (s.category, s.organization, s.visibility) == ("forces_ordre", "Gendarmerie nationale", "public")
    assert set(s.situations) == set(wdir.vocabulary.situations)
    assert s.voice.number == "0323000101" and s.email == "bta.chauny@fixture.example"
    assert s.hours == "Mo-Fr 08:00-12:00,14:00-18:00, Sa 08:00-12:00"
    assert s.address == {"street": "1 rue des Essais", "postal_code": "02300", "city": "Chauny"}
    assert s.verified_on == "2026-09-12" and s.source.startswith("Annuaire de l'administration (DILA)")
    assert "01/12/2026" in s.source and s.reachable
    assert not any("noyon" in sid or "caf" in sid for sid in wdir.snapshot.services)
    # every change is audited under the import's name
    assert [r["action"] for r in audit_of(wdir, BRIGADE)] == ["création"]
    assert audit_of(wdir, BRIGADE)[0]["username"] == "import-annuaire:test"


def test_units_that_list_no_commune_serve_the_nearest_town_halls(wdir):
    imported(wdir)
    soissons, saint_quentin = wdir.service(SOISSONS), wdir.service(SAINT_QUENTIN)
    assert {"commune-02722", "commune-02064", "commune-02770"} <= set(soissons.area)  # Soissons, Belleu, Vauxbuin
    assert set(saint_quentin.area) == {"commune-02691", "commune-02340", "commune-02371"}
    assert "commune-02173" not in soissons.area  # Chauny is listed by its brigade


def test_complaint_need_lists_the_unit_that_serves_the_commune(wdir, model_dir):
    from web.app import create_app
    from web.settings import Settings

    imported(wdir)
    app = create_app(Settings.from_env(db=wdir.db.conn.execute("PRAGMA database_list").fetchone()[2],
                                       model_dir=model_dir))
    with TestClient(app) as c:
        body = c.post("/api/orientation", json={"situation": "agression", "commune": "02566",
                                                "needs": ["plainte"]}).json()
    contacts = {x["id"]: x for x in body["contacts"]}
    assert BRIGADE in contacts and "plainte-accueil-local" in body["rules"]
    unit = contacts[BRIGADE]
    assert unit["address"] == "1 rue des Essais, 02300 Chauny" and unit["hours"].startswith("Mo-Fr 08:00")
    assert unit["phone"] == "0323000101" and "porter plainte" in unit["why"]
    assert SOISSONS not in contacts  # Ognes is not Soissons' area


def test_second_import_updates_in_place_and_keeps_staff_edits_as_conflicts(wdir, tmp_path):
    imported(wdir)
    s = wdir.service(BRIGADE)
    entry = service_entry(s)
    entry["phones"] = [{"number": "0323009999", "type": "voice"}]  # staff called and corrected it
    save_service(wdir, entry, version=s.version, username="claire")

    def change(units, doc):
        units["fixture-gend-chauny"]["telephone"] = [{"valeur": "03 23 00 01 02", "description": ""}]
        units["fixture-gend-chauny"]["plage_ouverture"][1]["valeur_heure_fin_1"] = "11:30:00"
        units["fixture-gend-chauny"]["date_modification"] = "15/11/2026 08:00:00"
        doc["service"].remove(units["fixture-pj-laon"])
    path = changed_file(tmp_path, change)
    plan = plan_import(wdir, path, file_date="2026-12-02")
    assert plan.added == [] and [p.id for p in plan.changed] == [BRIGADE]
    assert [(c.service_id, c.field, c.staff, c.file) for c in plan.conflicts] == [
        (BRIGADE, "phones", [{"number": "0323009999", "type": "voice"}], [{"number": "0323000102", "type": "voice"}])]
    assert plan.removed == [("point-justice-de-laon-fixture", "Point-justice de Laon (fixture)")]
    count = len(wdir.snapshot.services)
    apply_import(wdir, plan, "import-annuaire:test")
    s = wdir.service(BRIGADE)
    assert s.voice.number == "0323009999"  # staff's number kept, not overwritten
    assert s.hours.endswith("Sa 08:00-11:30") and s.verified_on == "2026-11-15"  # updated in place
    assert len(wdir.snapshot.services) == count  # same entry, no duplicate
    assert wdir.service("point-justice-de-laon-fixture", include_pro=True).status == "archived"
    log = [(r["username"], r["field"]) for r in audit_of(wdir, BRIGADE)]
    assert ("import-annuaire:test", "hours") in log and ("import-annuaire:test", "phones") not in log
    # a third import of the same file changes nothing and still reports the conflict
    again = plan_import(wdir, path, file_date="2026-12-02")
    assert again.changed == [] and [c.field for c in again.conflicts] == ["phones"]


@pytest.mark.parametrize("content,message", [
    ("ceci n'est pas du JSON", "JSON lisible"),
    ('{"autre": []}', "aucun enregistrement « service »"),
])
def test_a_bad_file_is_refused_in_french_and_changes_nothing(wdir, tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    before = dump(wdir)
    with pytest.raises(LoadError) as err:
        plan_import(wdir, path, file_date="2026-12-01")
    assert message in err.value.message and dump(wdir) == before


def test_unknown_type_and_wrong_departement_are_refused(wdir):
    with pytest.raises(Exception, match="inconnu"):
        plan_import(wdir, FIXTURE, types=["boulangerie"], file_date="2026-12-01")
    with pytest.raises(Exception, match="pas 60"):
        plan_import(wdir, FIXTURE, departement="60", file_date="2026-12-01")
    only = plan_import(wdir, FIXTURE, types=["gendarmerie"], file_date="2026-12-01")
    assert [p.id for p in only.added] == [BRIGADE]


@pytest.mark.parametrize("plages,expected", [
    ([{"nom_jour_debut": "Lundi", "nom_jour_fin": "Vendredi", "valeur_heure_debut_1": "09:00:00",
       "valeur_heure_fin_1": "12:00:00", "valeur_heure_debut_2": "14:00:00", "valeur_heure_fin_2": "17:30:00"}],
     "Mo-Fr 09:00-12:00,14:00-17:30"),
    # two plages on one day add up (OSM additional rule), the second does not replace the first
    ([{"nom_jour_debut": "Lundi", "nom_jour_fin": "Vendredi", "valeur_heure_debut_1": "09:00:00",
       "valeur_heure_fin_1": "12:00:00"},
      {"nom_jour_debut": "Mercredi", "nom_jour_fin": "Mercredi", "valeur_heure_debut_1": "14:00:00",
       "valeur_heure_fin_1": "17:00:00", "valeur_heure_debut_2": "", "valeur_heure_fin_2": ""}],
     "Mo-Fr 09:00-12:00, We 14:00-17:00"),
    ([{"nom_jour_debut": "Samedi", "nom_jour_fin": "", "valeur_heure_debut_1": "10:00:00",
       "valeur_heure_fin_1": "12:00:00"}], "Sa 10:00-12:00"),
    ([{"nom_jour_debut": "Lundi", "nom_jour_fin": "Lundi", "valeur_heure_debut_1": "",
       "valeur_heure_fin_1": ""}], None),  # no time: unknown, never invented
    ([], None),
])
def test_opening_hours_from_plage_ouverture(plages, expected):
    assert opening_hours(plages) == expected


def test_opening_hours_are_evaluated_by_opening_hours_py():
    from datetime import datetime

    from directory.hours import PARIS, open_now

    hours = opening_hours([{"nom_jour_debut": "Lundi", "nom_jour_fin": "Vendredi", "valeur_heure_debut_1": "09:00:00",
                            "valeur_heure_fin_1": "12:00:00"},
                           {"nom_jour_debut": "Mercredi", "nom_jour_fin": "Mercredi",
                            "valeur_heure_debut_1": "14:00:00", "valeur_heure_fin_1": "17:00:00"}])
    wednesday = datetime(2026, 12, 2, tzinfo=PARIS)
    assert open_now(hours, wednesday.replace(hour=10)) and open_now(hours, wednesday.replace(hour=15))
    assert not open_now(hours, wednesday.replace(hour=13))


def test_an_unreadable_day_is_a_warning():
    problems = []
    assert opening_hours([{"nom_jour_debut": "Lunedi", "valeur_heure_debut_1": "09:00:00",
                           "valeur_heure_fin_1": "12:00:00"}], problems, "Essai") is None
    assert problems == ["Essai : jour « Lunedi » illisible, plage ignorée"]


def test_cli_dry_run_then_apply(wdir, orientation_cli):
    db = wdir.db.conn.execute("PRAGMA database_list").fetchone()[2]
    before = dump(wdir)
    result = orientation_cli("--db", db, "import", "annuaire", FIXTURE, "--date", "2026-12-01")
    assert result.exit_code == 0, result.output
    assert "À ajouter (4)" in result.output and "Simulation : rien n'a été écrit" in result.output
    assert dump(Directory.open(db)) == before
    result = orientation_cli("--db", db, "import", "annuaire", FIXTURE, "--date", "2026-12-01", "--apply",
                             "--user", "claire")
    assert result.exit_code == 0 and "Écrit : 4 ajout(s)" in result.output
    assert audit_of(Directory.open(db), BRIGADE)[0]["username"] == "import-annuaire:claire"
    bad = orientation_cli("--db", db, "import", "annuaire", Path(__file__), "--apply")
    assert bad.exit_code == 1 and "Rien n'a été importé" in bad.output


def test_fixture_is_never_shipped_as_data():
    from directory import DATA_DIR

    for path in DATA_DIR.rglob("*"):
        if path.is_file():
            assert "fixture" not in path.read_text(encoding="utf-8", errors="ignore").lower(), path


def test_records_are_kept_for_the_next_import(wdir):
    imported(wdir)
    rows = {r["service_id"]: r for r in wdir.db.query("SELECT * FROM import_record")}
    assert rows[BRIGADE]["external_id"] == "fixture-gend-chauny" and rows[BRIGADE]["external_type"] == "gendarmerie"
    assert json.loads(rows[BRIGADE]["entry"])["phones"] == [{"number": "0323000101", "type": "voice"}]


def test_a_unit_whose_entry_was_removed_since_comes_back_as_new(wdir):
    imported(wdir)
    with wdir.db.conn:
        wdir.db.execute("DELETE FROM service_area WHERE service_id = ?", [BRIGADE])
        wdir.db.execute("DELETE FROM attribute WHERE service_id = ?", [BRIGADE])
        wdir.db.execute("DELETE FROM phone WHERE service_id = ?", [BRIGADE])
        wdir.db.execute("DELETE FROM schedule WHERE service_id = ?", [BRIGADE])
        wdir.db.execute("DELETE FROM service_at_location WHERE service_id = ?", [BRIGADE])
        wdir.db.execute("DELETE FROM service WHERE id = ?", [BRIGADE])
    wdir.invalidate()
    plan = imported(wdir)
    assert [p.id for p in plan.added] == [BRIGADE]
    assert wdir.service(BRIGADE).voice.number == "0323000101"
