"""Loading data/: counts, idempotence, and every kind of bad input stops the load
with a located message and leaves the database exactly as it was."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from directory import DATA_DIR, LoadError, connect, load, read_data


def dump(db) -> list:
    tables = [t for t in db.table_names() if not t.startswith(("service_fts", "_", "sqlite_"))]
    return [(t, sorted(map(tuple, db.execute(f"SELECT * FROM [{t}]").fetchall()))) for t in sorted(tables)]


def test_real_data_loads_with_expected_counts(fresh_db):
    counts = load(fresh_db, DATA_DIR)
    assert counts["communes"] == 797
    assert counts["services"] >= 50
    assert fresh_db["commune_alias"].count >= 20
    kinds = {r[0] for r in fresh_db.execute("SELECT DISTINCT kind FROM territory")}
    assert {"arrondissement", "epci", "reseau", "utas", "tribunal", "departement", "national"} <= kinds


def test_every_commune_is_in_one_network_utas_and_tribunal(directory):
    for insee in directory.snapshot.communes.by_insee:
        kinds = [t.kind for t in directory.territories_of(insee)]
        assert kinds.count("reseau") == 1, insee
        assert kinds.count("tribunal") == 1, insee
        assert kinds.count("utas") >= 1, insee


def test_load_is_idempotent_and_audited(fresh_db):
    load(fresh_db, DATA_DIR, username="db-load:claire")
    first = [t for t in dump(fresh_db) if t[0] != "audit_log"]
    load(fresh_db, DATA_DIR, username="db-load:claire")
    assert [t for t in dump(fresh_db) if t[0] != "audit_log"] == first
    # each load leaves one row in the journal: who, what it replaced, what it loaded
    rows = [dict(r) for r in fresh_db.query("SELECT * FROM audit_log ORDER BY id")]
    assert [(r["username"], r["entry"], r["action"]) for r in rows] == [
        ("db-load:claire", "annuaire", "chargement des données")] * 2
    assert json.loads(rows[1]["before"]) == {"services": json.loads(rows[0]["after"])["services"]}


def test_every_phone_of_the_plan_section_is_in_the_data(directory):
    plan = (DATA_DIR.parent.parent / "shared" / "sources" / "plan-departemental-prevention-delinquance-aisne-2021-2024.txt")
    if not plan.exists():
        pytest.skip(f"source plan absent: {plan}")
    text = plan.read_text(encoding="utf-8")
    start = text.index("5. Les dispositifs de lutte contre les violences")
    section = text[start:text.index("6. Les dispositifs de préservation", start)]
    long_numbers = {re.sub(r"\s", "", n) for n in re.findall(r"0\d(?: \d\d){4}", section)}
    short_numbers = set(re.findall(r"\b(115|17|15|18|114|3919)\b", section))
    known = {p.number for s in directory.snapshot.services.values() for p in s.phones}
    assert len(long_numbers) == 12  # five networks and seven UTAS
    assert long_numbers <= known
    assert short_numbers == {"115", "17", "15", "18", "114", "3919"}
    assert short_numbers <= known


def test_every_entry_names_its_source_and_verification_date(directory):
    for s in directory.snapshot.services.values():
        assert s.source and s.verified_on, s.id
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", s.verified_on)


def test_no_description_carries_a_phone_number():
    # Numbers only live in `phones`, so every number a reply shows comes from there.
    raw = yaml.safe_load((DATA_DIR / "services.yaml").read_text(encoding="utf-8"))
    for entry in raw["services"]:
        for field in ("description", "access"):
            assert not re.search(r"\d{2}[ .]?\d{2}[ .]?\d{2}", entry.get(field) or ""), (entry["id"], field)


def _break(data_copy, mutate):
    path = data_copy / "services.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(doc["services"])
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def _first(services, sid="reseau-soissonnais"):
    return next(s for s in services if s["id"] == sid)


BAD_INPUTS = {
    "invalid_phone": lambda s: _first(s)["phones"].__setitem__(0, {"number": "0323", "type": "voice"}),
    "invalid_hours": lambda s: _first(s).__setitem__("hours", "lundi de 9h à 17h"),
    "unknown_situation": lambda s: _first(s)["situations"].append("violence_conjugale"),
    "unknown_territory": lambda s: _first(s).__setitem__("area", ["reseau-inconnu"]),
    "duplicate_id": lambda s: s.append(dict(_first(s))),
    "unknown_field": lambda s: _first(s).__setitem__("telephone", "0323556633"),
    "missing_field": lambda s: _first(s).pop("name"),
    "unknown_category": lambda s: _first(s).__setitem__("category", "reseau"),
    "invalid_date": lambda s: _first(s).__setitem__("verified_on", "hier"),
    "invalid_email": lambda s: _first(s).__setitem__("email", "contact at exemple.fr"),
    "unknown_gender": lambda s: _first(s)["publics"].__setitem__("genders", ["femmes"]),
}


@pytest.mark.parametrize("code", sorted(BAD_INPUTS))
def test_bad_service_stops_the_load_and_changes_nothing(code, data_copy, tmp_path):
    db = connect(tmp_path / "x.db")
    load(db, DATA_DIR)
    before = dump(db)
    _break(data_copy, BAD_INPUTS[code])
    with pytest.raises(LoadError) as err:
        load(db, data_copy)
    problems = [p for p in err.value.problems if p.code == code]
    assert problems, err.value.problems
    p = problems[0]
    assert p.file == "services.yaml"
    assert p.entry == "reseau-soissonnais"
    assert p.line and p.line > 1
    assert "services.yaml" in str(p) and "reseau-soissonnais" in str(p)
    assert dump(db) == before


def test_unknown_commune_in_a_territory(data_copy, fresh_db):
    path = data_copy / "territories.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["territories"][2]["members"] = {"communes": ["02999"]}
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(LoadError) as err:
        read_data(data_copy)
    assert any(p.code == "unknown_commune" and p.file == "territories.yaml" for p in err.value.problems)


def test_yaml_syntax_error_names_the_line(data_copy):
    path = data_copy / "services.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(5, "  - id: [oops")
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(LoadError) as err:
        read_data(data_copy)
    p = err.value.problems[0]
    assert p.code == "yaml_syntax" and p.line is not None


def test_all_problems_are_reported_at_once(data_copy):
    def two(services):
        BAD_INPUTS["invalid_phone"](services)
        BAD_INPUTS["invalid_hours"](services)
    _break(data_copy, two)
    with pytest.raises(LoadError) as err:
        read_data(data_copy)
    assert {"invalid_phone", "invalid_hours"} <= {p.code for p in err.value.problems}
    assert "rien n'a été chargé" in err.value.message


def test_pragmas(db_path):
    db = connect(db_path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_backup_and_restore(db_path, tmp_path):
    from directory import Directory, backup

    target = backup(connect(db_path), tmp_path / "backup.db")
    restored = Directory.open(target)
    assert restored.service("reseau-soissonnais").voice.number == "0323556633"
    assert connect(target).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
