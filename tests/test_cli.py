"""The `orientation` command: exit codes and output, then state through the Python API."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from web.cli import cli


@pytest.fixture
def run(db_path):
    def invoke(*args, db=None):
        return CliRunner().invoke(cli, ["--db", str(db or db_path), *args], catch_exceptions=False)
    return invoke


def test_communes_find(run):
    r = run("communes", "find", "chateau thierry", "--json")
    assert r.exit_code == 0
    assert json.loads(r.output)["communes"][0]["code"] == "02168"


def test_communes_find_nothing(run):
    r = run("communes", "find", "xqzwv")
    assert r.exit_code == 1 and "Aucune commune" in r.output


def test_services_search(run):
    r = run("services", "search", "--commune", "Chauny", "--situation", "violences_conjugales", "--json")
    ids = [s["id"] for s in json.loads(r.output)["services"]]
    assert r.exit_code == 0 and "reseau-laon-chauny-la-fere" in ids


def test_services_search_bad_situation(run):
    r = run("services", "search", "--situation", "nope")
    assert r.exit_code == 1 and "inconnue" in r.output


def test_db_init_load_and_backup(tmp_path):
    db = tmp_path / "new.db"
    runner = CliRunner()
    r = runner.invoke(cli, ["--db", str(db), "db", "init", "--load-if-empty"])
    assert r.exit_code == 0 and "797 communes" in r.output
    r = runner.invoke(cli, ["--db", str(db), "db", "init", "--load-if-empty"])
    assert "Chargé" not in r.output  # not empty any more: nothing reloaded
    r = runner.invoke(cli, ["--db", str(db), "db", "backup", str(tmp_path / "b.db")])
    assert r.exit_code == 0 and (tmp_path / "b.db").exists()
    r = runner.invoke(cli, ["--db", str(db), "db", "backup", str(tmp_path / "b.db")])
    assert r.exit_code == 1 and "existe déjà" in r.output


def test_db_load_bad_data_exits_1(tmp_path, data_copy):
    (data_copy / "services.yaml").write_text("services: [oops", encoding="utf-8")
    r = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "--data", str(data_copy), "db", "load"])
    assert r.exit_code == 1 and "services.yaml" in r.output


def test_rules_check_and_test(run):
    r = run("rules", "check")
    assert r.exit_code == 0 and "Règles valides" in r.output
    r = run("rules", "test")
    assert r.exit_code == 0 and " 0 failed" in r.output


def test_rules_check_fails_on_broken_rules(db_path, tmp_path, monkeypatch):
    (tmp_path / "a.rules.yml").write_text("rules:\n  - id: x\n    when: {situation: [nope]}\n    then: []\n")
    monkeypatch.setenv("ORIENTATION_RULES", str(tmp_path))
    r = CliRunner().invoke(cli, ["--db", str(db_path), "rules", "check"])
    assert r.exit_code == 1 and "a.rules.yml:3" in r.output


def test_rules_coverage(run):
    r = run("rules", "coverage")
    assert r.exit_code == 0 and "arr-022" in r.output and "radicalisation dans arr-021" in r.output


def test_orient(run):
    r = run("orient", "--situation", "violences_conjugales", "--commune", "02173", "--json")
    phones = [c["phone"] for c in json.loads(r.output)["contacts"]]
    assert "3919" in phones and "0323793014" in phones
    r = run("orient", "--danger")
    lines = r.output.splitlines()
    assert r.exit_code == 0 and lines[0] == "À contacter d'abord :" and lines[1].startswith("• Police secours")
    r = run("orient", "--situation", "nope")
    assert r.exit_code == 1 and "situation" in r.output
