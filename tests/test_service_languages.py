"""The languages a service speaks (issue 14): only where a source says so, validated,
kept through every way in and out of the directory, and shown on the contact."""
from __future__ import annotations

import json

import pytest
import yaml

from directory import DATA_DIR, Directory, LoadError, connect, load
from directory.csvio import export_csv, import_csv
from directory.hsds import export
from directory.hsds_import import apply_hsds, plan_hsds
from directory.services import contact


def _data_with(tmp_path, languages):
    data = tmp_path / "data"
    data.mkdir()
    for f in DATA_DIR.iterdir():
        if f.is_file():
            (data / f.name).write_bytes(f.read_bytes())
    doc = yaml.safe_load((DATA_DIR / "services.yaml").read_text(encoding="utf-8"))
    for s in doc["services"]:
        if s["id"] == "france-victimes-116006":
            s["languages"] = languages
    (data / "services.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return data


def test_languages_are_loaded_and_shown_on_the_contact(tmp_path):
    data = _data_with(tmp_path, ["en", "ar"])
    load(connect(tmp_path / "d.db"), data)
    d = Directory.open(tmp_path / "d.db", data)
    s = d.service("france-victimes-116006")
    assert s.languages == ("en", "ar")
    assert contact(s, "pourquoi")["languages"] == ["en", "ar"]
    assert contact(d.service("violences-femmes-info-3919"), "x")["languages"] == []  # unknown: said as nothing


@pytest.mark.parametrize("bad", [["english"], ["zz"], "en", [3]])
def test_a_language_that_is_no_iso_code_is_refused_in_french(tmp_path, bad):
    data = _data_with(tmp_path, bad)
    with pytest.raises(LoadError) as err:
        load(connect(tmp_path / "d.db"), data)
    problems = [p for p in err.value.problems if p.field == "languages"]
    assert problems and "ISO 639" in problems[0].message


def test_languages_survive_csv_and_hsds_round_trips(tmp_path):
    data = _data_with(tmp_path, ["tr"])
    load(connect(tmp_path / "d.db"), data)
    d = Directory.open(tmp_path / "d.db", data)
    csv_path = tmp_path / "x.csv"
    export_csv(d, csv_path)
    import_csv(d.db, csv_path, data)
    assert Directory.open(tmp_path / "d.db", data).service("france-victimes-116006").languages == ("tr",)
    exported = export(d)
    item = next(s for s in exported["contents"] if s["name"].startswith("France Victimes, aide"))
    assert item["languages"][0]["code"] == "tr" and item["languages"][0]["name"] == "turc"
    path = tmp_path / "hsds.json"
    path.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    load(connect(tmp_path / "e.db"), data)
    empty = Directory.open(tmp_path / "e.db", data)
    apply_hsds(empty, plan_hsds(empty, path), "import-hsds:test")
    assert empty.service("france-victimes-116006").languages == ("tr",)
