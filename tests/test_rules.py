"""Rules: the shipped rules are valid, scenarios pass, every kind of broken rule file
is reported with its code, file and line, evaluation is deterministic."""
from __future__ import annotations

import shutil
import textwrap

import pytest

from rules import RULES_DIR, Orienter, Request, RulesError, evaluate, load_rules
from rules.scenarios import load_scenarios, run_scenario

SCENARIOS = load_scenarios()


def test_shipped_rules_are_valid(directory):
    rs = load_rules(directory.snapshot, directory.vocabulary)
    assert len(rs.rules) > 20


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(orienter, scenario):
    assert run_scenario(orienter, scenario) == [], scenario.where


def test_scenarios_cover_every_situation_in_every_arrondissement(directory):
    seen = set()
    for s in SCENARIOS:
        g = s.given
        if g.get("situation") and g.get("commune"):
            arr = directory.commune(g["commune"]).arrondissement
            seen.add((g["situation"], arr))
    situations = set(directory.vocabulary.situations)
    assert {(s, a) for s in situations for a in ("021", "022", "023", "024", "025")} <= seen


def test_evaluation_is_deterministic(orienter):
    req = Request(situation="violences_conjugales", commune="02173", needs=frozenset({"hebergement", "plainte"}))
    first = orienter.evaluate(req)
    for _ in range(20):
        assert orienter.evaluate(req) == first


def test_no_duplicates_and_reasons_everywhere(orienter, directory):
    for situation in directory.vocabulary.situations:
        o = orienter.evaluate(Request(situation=situation, commune="02722", danger=True, distress=True,
                                      needs=frozenset(directory.vocabulary.needs)))
        ids = [r.service_id for r in o.recommendations]
        assert len(ids) == len(set(ids))
        assert all(r.why and "{" not in r.why for r in o.recommendations)


def test_pro_services_only_when_asked(orienter):
    req = Request(situation="enfant_en_danger", commune="02722", age_group="mineur")
    public = orienter.evaluate(req)
    pro = orienter.evaluate(req, include_pro=True)
    # reached only on the prosecutor's requisition: a step for professionals, never a contact
    assert "uaped-ch-soissons" not in {st.about for st in public.steps}
    assert "uaped-ch-soissons" in {st.about for st in pro.steps}
    assert "uaped-ch-soissons" not in [r.service_id for r in pro.recommendations]


def write_rules(tmp_path, extra: str, keep=True):
    d = tmp_path / "rules"
    d.mkdir()
    if keep:
        for f in RULES_DIR.glob("*.rules.yml"):
            shutil.copy(f, d / f.name)
    (d / "zz-test.rules.yml").write_text(textwrap.dedent(extra), encoding="utf-8")
    return d


GOOD = """\
rules:
  - id: test-rule
    when:
      situation: [violences_conjugales]
    then:
      - service: violences-femmes-info-3919
        why: "Une raison."
"""

BROKEN = {
    "unknown_situation": ("situation: [violences_conjugales]", "situation: [violence_conjugales]", 4, "violences_conjugales"),
    "unknown_service": ("service: violences-femmes-info-3919", "service: violences-femmes-info-3918", 6, "violences-femmes-info-3919"),
    "unknown_field": ("    when:\n", "    wehn: 1\n    when:\n", 3, "when"),
    "wrong_type": ("    when:\n", "    priority: haute\n    when:\n", 3, None),
    "never_fires": ("situation: [violences_conjugales]", "situation: []", 4, None),
    "missing_field": ('        why: "Une raison."\n', "", 6, None),
    "unknown_territory": ("situation: [violences_conjugales]", "situation: [violences_conjugales]\n      territory: [arr-099]", 5, "arr-025"),
    "yaml_syntax": ("    when:\n", "    when: [\n", None, None),
    "number_in_why": ('why: "Une raison."', 'why: "Appelez le 3919."', 7, None),
}


@pytest.mark.parametrize("code", sorted(BROKEN))
def test_broken_rule_file_is_reported_precisely(directory, tmp_path, code):
    old, new, line, suggestion = BROKEN[code]
    assert old in GOOD
    d = write_rules(tmp_path, GOOD.replace(old, new))
    with pytest.raises(RulesError) as err:
        load_rules(directory.snapshot, directory.vocabulary, d)
    problems = [p for p in err.value.problems if p.code == code]
    assert problems, err.value.problems
    p = problems[0]
    assert p.file == "zz-test.rules.yml"
    if line:
        assert p.line == line
    else:
        assert p.line is not None
    if suggestion:
        assert p.suggestion == suggestion
    assert "zz-test.rules.yml" in err.value.message


def test_duplicate_rule_id(directory, tmp_path):
    d = write_rules(tmp_path, GOOD.replace("test-rule", "danger-immediat"))
    with pytest.raises(RulesError) as err:
        load_rules(directory.snapshot, directory.vocabulary, d)
    assert [p for p in err.value.problems if p.code == "duplicate_id" and p.file == "zz-test.rules.yml"]


def test_situation_without_rule(directory, tmp_path):
    d = write_rules(tmp_path, GOOD, keep=False)
    with pytest.raises(RulesError) as err:
        load_rules(directory.snapshot, directory.vocabulary, d)
    missing = {p.message for p in err.value.problems if p.code == "situation_without_rule"}
    assert len(missing) == len(directory.vocabulary.situations) - 1


def test_server_refuses_to_start_on_invalid_rules(db_path, tmp_path):
    from web.app import create_app
    from web.settings import Settings

    d = write_rules(tmp_path, GOOD.replace("situation: [violences_conjugales]", "situation: [nope]"))
    with pytest.raises(RulesError):
        create_app(Settings.from_env(db=db_path, rules_dir=d))


def test_api_orientation_done_criteria(client):
    body = client.post("/api/orientation", json={"situation": "violences_conjugales", "commune": "02173"}).json()
    phones = [c["phone"] for c in body["contacts"]]
    assert "3919" in phones and "0323793014" in phones
    others = {"0323084981", "0323993303", "0323556633", "0323697541"}  # the other four networks
    assert not others & set(phones)
    assert body["commune"]["code"] == "02173"
    assert "national-violences-couple" in body["rules"]
    danger = client.post("/api/orientation", json={"situation": "violences_conjugales", "commune": "02173",
                                                   "danger": True}).json()
    assert danger["contacts"][0]["phone"] in ("17", "112") or danger["contacts"][0]["sms"] == "114"


def test_api_orientation_accepts_names_and_postal_codes(client):
    a = client.post("/api/orientation", json={"situation": "violences_conjugales", "commune": "Chauny"}).json()
    b = client.post("/api/orientation", json={"situation": "violences_conjugales", "commune": "02300"})
    assert a["commune"]["code"] == "02173"
    assert b.status_code in (200, 422)  # 02300 is shared by Chauny and neighbours: 422 names them
    if b.status_code == 422:
        assert "Chauny" in b.json()["detail"]


@pytest.mark.parametrize("body,field", [
    ({"situation": "pas_un_code"}, "situation"), ({"role": "voisin"}, "role"), ({"needs": ["argent"]}, "needs"),
    ({"profile": ["x"]}, "profile"), ({"age_group": "bebe"}, "age_group"), ({"commune": "Paris"}, "commune"),
    ({"danger": "peut-être"}, "danger"), ({"inconnu": 1}, "inconnu"),
])
def test_api_orientation_422(client, body, field):
    r = client.post("/api/orientation", json=body)
    assert r.status_code == 422
    assert r.json()["field"] == field and r.json()["detail"]


def test_api_orientation_contract(client):
    from conftest import contract

    v = contract("orientation")
    for body in [{"situation": "violences_sexuelles", "commune": "02691"},
                 {"situation": "maltraitance_vulnerable", "commune": "Hirson", "role": "proche"}, {"danger": True}]:
        errors = list(v.iter_errors(client.post("/api/orientation", json=body).json()))
        assert errors == []


def test_coverage_lists_gaps(orienter):
    from rules.coverage import coverage

    cov = coverage(orienter)
    assert [t["id"] for t in cov["territories"]] == ["arr-021", "arr-022", "arr-023", "arr-024", "arr-025"]
    assert cov["matrix"]["violences_conjugales"]["arr-022"]["proximite"] >= 2
    assert ("radicalisation", "arr-021") in cov["gaps"]
