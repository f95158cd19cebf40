"""The staff CSV: export keeps everything, a round trip is byte-identical, and a bad row
stops the import with its line and field named, leaving the database as it was."""
from __future__ import annotations

import csv
import io
import shutil
import sqlite3
from pathlib import Path

import pytest
import yaml

from directory import DATA_DIR, Directory, LoadError, connect, load
from directory.editing import archive_service, audit_of
from directory.csvio import CSV_COLUMNS, SERVICE_TABLES, export_csv, import_csv

EXTRA = [
    {"id": "test-adresse-publique", "name": "Permanence test à Laon", "organization": "Association test",
     "category": "aide_victimes", "description": "Une permanence d'essai, avec une adresse publique.",
     "phones": [{"number": "03 23 00 00 01", "type": "voice"}, {"number": "114", "type": "sms"}],
     "url": "https://example.org/permanence", "email": "permanence@example.org", "situations": ["harcelement", "agression"],
     "publics": {"ages": ["adulte", "mineur"], "roles": ["victime", "proche"], "genders": ["femme"]}, "area": ["arr-022", "commune-02408"],
     "address": {"street": "1 rue de la Paix, bâtiment « B »", "postal_code": "02000", "city": "Laon"},
     "confidential_address": False, "hours": "Mo-Fr 09:00-12:00; PH off", "visibility": "public",
     "cost": "prix_appel", "emergency": False, "access": "Sans rendez-vous,\nau rez-de-chaussée.", "source": "staff",
     "verified_on": "2026-01-15", "a_verifier": True},
    {"id": "test-refuge-confidentiel", "name": "Refuge test", "organization": "Association test",
     "category": "hebergement", "description": "Un refuge d'essai dont l'adresse est confidentielle.",
     "situations": ["violences_conjugales"], "area": ["dep-02"],
     "address": {"street": "Impasse du Refuge Secret", "postal_code": "02100", "city": "Saint-Quentin"},
     "confidential_address": True, "visibility": "public", "source": "staff", "verified_on": "2026-01-15"},
]


def make_db(tmp: Path, services: list[dict] | None) -> Path:
    """A database loaded from a copy of data/, with `services` added and one archived (or with no service)."""
    data = tmp / "data"
    shutil.copytree(DATA_DIR, data)
    raw = yaml.safe_load((data / "services.yaml").read_text(encoding="utf-8"))
    raw["services"] = raw["services"] + services if services is not None else []
    (data / "services.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    path = tmp / "orientation.db"
    load(connect(path), data)
    if services is not None:
        archive_service(Directory.open(path), "test-refuge-confidentiel", "alice")
    return path


def clone(source: Path, target: Path) -> Path:
    """A writable copy of a database file, through SQLite's backup API."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    return target


def dump(db) -> list:
    tables = [t for t in db.table_names() if not t.startswith(("service_fts", "_", "sqlite_"))]
    return [(t, sorted(map(tuple, db.execute(f"SELECT * FROM [{t}]").fetchall()))) for t in sorted(tables)]


@pytest.fixture(scope="module")
def full_db(tmp_path_factory) -> Path:
    """The real data plus a service with a public address and one with a confidential address."""
    return make_db(tmp_path_factory.mktemp("full"), EXTRA)


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory) -> Path:
    """Communes, territories and sources loaded, but no service."""
    return make_db(tmp_path_factory.mktemp("empty"), None)


@pytest.fixture(scope="module")
def exported(full_db, tmp_path_factory) -> Path:
    """The CSV export of `full_db`."""
    path = tmp_path_factory.mktemp("csv") / "services.csv"
    export_csv(Directory.open(full_db), path)
    return path


def rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_export_keeps_everything_for_staff(exported, full_db):
    assert exported.read_text(encoding="utf-8").splitlines()[0] == ",".join(CSV_COLUMNS)
    data = {r["id"]: r for r in rows(exported)}
    assert list(data) == sorted(data)
    assert len(data) == Directory.open(full_db).db["service"].count
    assert data["crip-aisne"]["visibility"] == "pro"  # pro-only services are kept
    secret = data["test-refuge-confidentiel"]
    assert (secret["address_street"], secret["confidential_address"]) == ("Impasse du Refuge Secret", "true")
    assert secret["status"] == "archived" and data["crip-aisne"]["status"] == "active"
    public = data["test-adresse-publique"]
    assert public["phones"] == "0323000001 | sms:114" and public["email"] == "permanence@example.org"
    assert public["publics_genders"] == "femme" and data["police-secours-17"]["publics_genders"] == ""
    assert public["situations"] == "agression | harcelement"
    assert public["publics_ages"] == "adulte | mineur" and public["area"] == "arr-022 | commune-02408"
    assert public["access"] == "Sans rendez-vous,\nau rez-de-chaussée." and public["source"] == "staff"
    assert data["police-secours-17"]["hours"] == "24/7" and data["police-secours-17"]["emergency"] == "true"


def test_round_trip_is_byte_identical(exported, empty_db, tmp_path):
    db = connect(clone(empty_db, tmp_path / "fresh.db"))
    assert db["service"].count == 0
    counts = import_csv(db, exported, DATA_DIR)
    assert counts["services"] == len(rows(exported))
    again = tmp_path / "again.csv"
    export_csv(Directory(db), again)
    assert again.read_bytes() == exported.read_bytes()


def test_round_trip_keeps_every_stored_value(exported, full_db, empty_db, tmp_path):
    db = connect(clone(empty_db, tmp_path / "fresh.db"))
    import_csv(db, exported, DATA_DIR)

    def content(database) -> dict:
        # Left out: the integer ids of phone and schedule rows (they follow insertion order) and
        # `version`, an edit counter (the import writes each service once, at version 1).
        out = {t: sorted(map(tuple, database.execute(f"SELECT * FROM [{t}]").fetchall()))
               for t in (*SERVICE_TABLES, "taxonomy_term")}
        out["phone"] = sorted(r[1:] for r in out["phone"])
        out["schedule"] = sorted(r[1:] for r in out["schedule"])
        out["service"] = {r["id"]: {k: v for k, v in r.items() if k != "version"}
                          for r in database.query("SELECT * FROM service")}
        return out
    assert content(db) == content(connect(full_db))


def test_import_replaces_services_not_communes(exported, full_db, tmp_path):
    db = connect(clone(full_db, tmp_path / "db.db"))
    communes, territories = db["commune"].count, db["territory"].count
    assert Directory(db).search("essai")[1] == 1  # the test service not archived
    header = exported.read_text(encoding="utf-8").splitlines(keepends=True)[0]
    small = tmp_path / "small.csv"
    small.write_text(header + "".join(_records(exported)[:2]), encoding="utf-8")
    import_csv(db, small, DATA_DIR)
    assert db["service"].count == 2
    assert (db["commune"].count, db["territory"].count) == (communes, territories)
    assert Directory(db).search("essai")[1] == 0  # the search index follows the import


def _records(path: Path) -> list[str]:
    """Each data record of a CSV file as text (a record may span lines)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    records = []
    for row in list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))[1:]:
        out.seek(0), out.truncate()
        writer.writerow(row)
        records.append(out.getvalue())
    return records


def broken(exported: Path, target: Path, changes: dict[str, dict[str, str]]) -> Path:
    """A copy of the export with some cells changed: {service id: {column: value}}."""
    data = rows(exported)
    for row in data:
        row.update(changes.get(row["id"], {}))
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    return target


def line_of(path: Path, sid: str) -> int:
    text = path.read_text(encoding="utf-8")
    return text[: text.index("\n" + sid + ",")].count("\n") + 2


@pytest.mark.parametrize("column, value, code, field", [
    ("phones", "0323000001 | 12345678901", "invalid_phone", "phones"),
    ("area", "arr-022 | territoire-inconnu", "unknown_territory", "area"),
    ("hours", "du lundi au vendredi", "invalid_hours", "hours"),
    ("emergency", "peut-être", "wrong_type", "emergency"),
    ("verified_on", "15/01/2026", "invalid_date", "verified_on"),
    ("status", "supprimé", "invalid_status", "status"),
])
def test_bad_row_names_line_and_field_and_writes_nothing(exported, full_db, tmp_path, column, value, code, field):
    db = connect(clone(full_db, tmp_path / "db.db"))
    before = dump(db)
    path = broken(exported, tmp_path / "services.csv", {"test-adresse-publique": {column: value}})
    with pytest.raises(LoadError) as err:
        import_csv(db, path, DATA_DIR)
    [problem] = err.value.problems
    assert (problem.code, problem.field, problem.entry, problem.file) == (code, field, "test-adresse-publique", "services.csv")
    assert problem.line == line_of(path, "test-adresse-publique")
    assert dump(db) == before


def test_duplicate_id_is_refused(exported, full_db, tmp_path):
    db = connect(clone(full_db, tmp_path / "db.db"))
    before = dump(db)
    path = broken(exported, tmp_path / "services.csv", {"test-refuge-confidentiel": {"id": "test-adresse-publique"}})
    with pytest.raises(LoadError) as err:
        import_csv(db, path, DATA_DIR)
    [problem] = err.value.problems
    first = line_of(path, "test-adresse-publique")
    assert (problem.code, problem.field, problem.entry) == ("duplicate_id", "id", "test-adresse-publique")
    assert problem.line > first and f"ligne {first}" in problem.message
    assert dump(db) == before


def test_every_problem_is_collected(exported, full_db, tmp_path):
    db = connect(clone(full_db, tmp_path / "db.db"))
    path = broken(exported, tmp_path / "services.csv", {
        "police-secours-17": {"phones": "abc"}, "crip-aisne": {"area": "nulle-part"},
        "test-adresse-publique": {"hours": "toujours", "situations": ""},
    })
    with pytest.raises(LoadError) as err:
        import_csv(db, path, DATA_DIR)
    found = {(p.entry, p.field) for p in err.value.problems}
    assert found == {("police-secours-17", "phones"), ("crip-aisne", "area"),
                     ("test-adresse-publique", "hours"), ("test-adresse-publique", "situations")}
    assert "services.csv:" in err.value.message and "champ « area »" in err.value.message


def test_import_is_audited_and_bumps_changed_versions(exported, full_db, tmp_path):
    directory = Directory.open(clone(full_db, tmp_path / "db.db"))
    before = {s.id: s.version for s in directory.snapshot.services.values()}
    data = rows(exported)
    for row in data:
        if row["id"] == "test-adresse-publique":
            row["hours"] = "Mo-Fr 14:00-17:00"
        if row["id"] == "crip-aisne":
            row["id"] = "crip-aisne-renomme"
    data = [r for r in data if r["id"] != "police-secours-17"]
    path = tmp_path / "services.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    counts = import_csv(directory.db, path, DATA_DIR, username="bob")
    assert (counts["created"], counts["changed"], counts["removed"]) == (1, 1, 2)
    directory.invalidate()
    after = {s.id: s.version for s in directory.snapshot.services.values()}
    assert after["test-adresse-publique"] == before["test-adresse-publique"] + 1
    assert after["reseau-soissonnais"] == before["reseau-soissonnais"]
    assert after["test-refuge-confidentiel"] == before["test-refuge-confidentiel"] == 2  # archived once
    assert after["crip-aisne-renomme"] == 1
    log = [(r["username"], r["entry"], r["action"], r["field"]) for r in audit_of(directory) if r["username"] == "bob"]
    assert sorted(log) == sorted([
        ("bob", "crip-aisne-renomme", "création", None), ("bob", "test-adresse-publique", "modification", "hours"),
        ("bob", "crip-aisne", "suppression", None), ("bob", "police-secours-17", "suppression", None),
        ("bob", "annuaire", "import csv", "services.csv")])


def test_missing_or_unknown_column(exported, full_db, tmp_path):
    db = connect(clone(full_db, tmp_path / "db.db"))
    text = exported.read_text(encoding="utf-8").replace(",a_verifier,", ",a_verifier_typo,", 1)
    (tmp_path / "bad.csv").write_text(text, encoding="utf-8")
    with pytest.raises(LoadError) as err:
        import_csv(db, tmp_path / "bad.csv", DATA_DIR)
    assert {(p.code, p.field, p.line) for p in err.value.problems} == {
        ("missing_column", "a_verifier", 1), ("unknown_column", "a_verifier_typo", 1)}


def test_import_into_a_database_without_territories_fails(exported, tmp_path):
    from directory import DirectoryError

    with pytest.raises(DirectoryError, match="aucun territoire"):
        import_csv(connect(tmp_path / "nothing.db"), exported, DATA_DIR)


# -- command line ---------------------------------------------------------------------------------
def test_cli_export_then_import(orientation_cli, full_db, exported, tmp_path):
    r = orientation_cli("--db", full_db, "export", "csv", tmp_path / "out.csv")
    assert r.exit_code == 0 and "ne pas le publier" in r.output
    assert (tmp_path / "out.csv").read_bytes() == exported.read_bytes()
    db_path = clone(full_db, tmp_path / "db.db")
    r = orientation_cli("--db", db_path, "import", "csv", tmp_path / "out.csv")
    assert r.exit_code == 0 and f"Importé : {len(rows(exported))} services" in r.output


def test_cli_import_bad_csv_exits_1(orientation_cli, full_db, exported, tmp_path):
    db_path = clone(full_db, tmp_path / "db.db")
    before = dump(connect(db_path))
    path = broken(exported, tmp_path / "services.csv", {"test-adresse-publique": {"hours": "jamais"}})
    r = orientation_cli("--db", db_path, "import", "csv", path)
    assert r.exit_code == 1
    assert f"services.csv:{line_of(path, 'test-adresse-publique')}" in r.output and "champ « hours »" in r.output
    assert dump(connect(db_path)) == before
    r = orientation_cli("--db", db_path, "import", "csv", tmp_path / "absent.csv")
    assert r.exit_code == 1 and "introuvable" in r.output
