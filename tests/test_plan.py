"""The answer as a plan (issue 11) and the profiles of issue 10: every situation x
arrondissement x profile x age x gender x danger gives a short plan whose contacts can all
be reached; `orientation rules check` warns about a rule that offers an unreachable entry."""
from __future__ import annotations

import itertools
import re
import shutil
import textwrap

import pytest
from click.testing import CliRunner

from rules import RULES_DIR, Orienter, RulesError, build_request, load_rules, plan_text
from rules.plan import load_plan_spec
from web.cli import cli

DANGER_WORDS = "en danger maintenant"
# the situations where an older or disabled person gets 3977 alongside the situation's line
# (rules/national.rules.yml senior-3977, handicap-3977); None: situation not yet known
WITH_3977 = {"violences_conjugales", "violences_intrafamiliales", "violences_sexuelles", "agression", "harcelement",
             "escroquerie", "autre", "maltraitance_vulnerable", None}


def _communes(directory):
    """One commune per arrondissement, from the data: the most populated."""
    best = {}
    for c in directory.snapshot.communes.by_insee.values():
        if c.arrondissement and (c.arrondissement not in best or (c.population or 0) > (best[c.arrondissement].population or 0)):
            best[c.arrondissement] = c
    return [c.insee for _, c in sorted(best.items())]


def _check_plan(directory, orienter, req, spec):
    snap = directory.snapshot
    result = orienter.orient(req)
    where = f"{req}"
    contacts = result.contacts
    ids = [c["id"] for c in contacts]
    # every contact shown can be reached, including those under the plan and in the steps
    shown = contacts + result.if_danger + [st["contact"] for st in result.steps if st.get("contact")]
    for c in shown:
        assert snap.services[c["id"]].reachable, (c["id"], where)
        assert any(c.get(k) for k in ("phone", "sms", "url", "email", "address")), (c["id"], where)
    # a short plan: at most 3 first, at most 4 in the need groups, in display order
    groups = [c["group"] for c in contacts]
    assert groups.count("first") <= spec.first_max == 3, where
    needs = [g for g in groups if g not in ("first", "more")]
    assert len(needs) <= spec.needs_max == 4, where
    order = ["first", *spec.needs_order, "more"]
    assert [order.index(g) for g in groups] == sorted(order.index(g) for g in groups), where
    assert [g["code"] for g in result.groups] == list(dict.fromkeys(groups)), where
    assert all(g["title"] for g in result.groups)
    # safety framing: "vous êtes en danger maintenant" only when danger is true; 17 once
    whys = " ".join(c["why"] for c in contacts + result.if_danger)
    assert (DANGER_WORDS in whys) == req.danger, where
    nines = [c for c in contacts + result.if_danger if c["id"] == "police-secours-17"]
    assert len(nines) == 1, where
    if req.danger:
        # the first emergency contact first; the other emergency numbers once, under the plan
        assert ids[0] in ("police-secours-17", "urgence-sms-114"), where
        assert all(snap.services[c["id"]].emergency for c in result.if_danger), where
        assert sum(snap.services[i].emergency for i in ids[:3]) == 1 or req.distress, where
    # steps: short French texts without digits (numbers come from the directory)
    assert all(st["text"] and not re.search(r"\d", st["text"]) for st in result.steps), where
    # profiles
    if req.age_group == "mineur":
        assert "allo-enfance-en-danger-119" in ids, where
    if (req.age_group == "senior" or "handicap" in req.profile) and req.situation in WITH_3977:
        assert "maltraitance-3977" in ids, where
    if req.gender == "homme":
        for c in shown:
            assert "femme" not in snap.services[c["id"]].genders or not snap.services[c["id"]].genders, (c["id"], where)
        for st in result.orientation.steps:
            assert not st.about or not snap.services[st.about].genders or "homme" in snap.services[st.about].genders
    if "sourd" in req.profile:
        emergency = [c for c in contacts if snap.services[c["id"]].emergency]
        # cannot phone: SMS 114 first, whatever the danger (and not again under the plan)
        assert ids[0] == "urgence-sms-114" and contacts[0]["group"] == "first", where
        assert "urgence-sms-114" not in [c["id"] for c in result.if_danger], where
        rest = [c for c in contacts if c not in emergency]
        written = [bool(c["sms"] or c["url"] or c.get("email")) for c in rest if c["group"] == "first"]
        assert written == sorted(written, reverse=True), where
    if "hebergement" not in req.needs:
        assert "samu-social-115" not in ids, where
    if req.situation == "cambriolage_vol":
        assert ids[0] in ("police-secours-17", "urgence-sms-114") or req.distress, where
    return result


def test_every_situation_arrondissement_profile_gives_a_short_reachable_plan(directory, orienter):
    v = directory.vocabulary
    spec = orienter.plan_spec
    situations = [*v.situations, None]
    communes = [*_communes(directory), None]
    assert len(communes) == 6  # five arrondissements, and no commune
    profiles = [(), ("sourd",), ("handicap",)]
    ages = [None, "mineur", "senior"]
    genders = [None, "femme", "homme"]
    flags = [(False, False), (True, False), (False, True)]  # (danger, distress)
    asked = [(None, ()), (None, tuple(v.needs)), ("proche", ())]  # (role, needs)
    count = 0
    for situation, commune, profile, age, gender, (danger, distress), (role, need) in itertools.product(
            situations, communes, profiles, ages, genders, flags, asked):
        req = build_request(v, situation=situation, commune=commune, profile=profile, age_group=age, gender=gender,
                            danger=danger, distress=distress, role=role, needs=need)
        _check_plan(directory, orienter, req, spec)
        count += 1
    assert count == len(situations) * 6 * 3 * 3 * 3 * 3 * 3


def test_median_plan_is_short(directory, orienter):
    # issue 11: the median number of contacts shown before "Voir tous les contacts" is at most 7
    v = directory.vocabulary
    sizes = []
    for situation, commune in itertools.product(v.situations, _communes(directory)):
        r = orienter.orient(build_request(v, situation=situation, commune=commune))
        sizes.append(sum(1 for c in r.contacts if c["group"] != "more"))
    sizes.sort()
    assert sizes[len(sizes) // 2] <= 7


def test_unreachable_entries_of_the_data_are_never_contacts_but_steps(directory, orienter):
    v = directory.vocabulary
    r = orienter.orient(build_request(v, situation="violences_conjugales", commune="02722",
                                      needs=["hebergement", "plainte", "soutien_psy"]))
    ids = {c["id"] for c in r.contacts}
    about = {st.about for st in r.orientation.steps}
    for measure in ("telephone-grave-danger", "ordonnance-de-protection", "hebergement-urgence-femmes-victimes",
                    "plainte-a-l-hopital", "brigades-protection-famille", "accueil-jour-femmes-soissons"):
        assert measure not in ids and measure in about
    # the women's places are asked for through the Samu social, whose number the step carries
    step = next(st for st in r.steps if st["service"] == "samu-social-115")
    assert step["contact"]["phone"] == "115" and not re.search(r"\d", step["text"])


def test_a_man_gets_no_women_only_service_nor_step(directory, orienter):
    v = directory.vocabulary
    base = dict(situation="violences_conjugales", commune="02722", needs=["hebergement"])
    woman = orienter.orient(build_request(v, gender="femme", **base))
    man = orienter.orient(build_request(v, gender="homme", **base))
    assert woman.contacts[0]["id"] == "violences-femmes-info-3919"
    assert "violences-femmes-info-3919" not in {c["id"] for c in man.contacts}
    assert man.contacts[0]["id"] in ("france-victimes-116006", "samu-social-115")  # a place tonight, asked for, may come first
    assert "hebergement-urgence-femmes-victimes" in {st.about for st in woman.orientation.steps}
    assert "hebergement-urgence-femmes-victimes" not in {st.about for st in man.orientation.steps}
    assert "accueil-jour-femmes-soissons" not in {st.about for st in man.orientation.steps}


def test_minor_without_commune_gets_119_first(directory, orienter):
    r = orienter.orient(build_request(directory.vocabulary, situation="violences_intrafamiliales", age_group="mineur"))
    assert r.contacts[0]["id"] == "allo-enfance-en-danger-119"


def test_burglary_17_first_steps_no_shelter(directory, orienter):
    r = orienter.orient(build_request(directory.vocabulary, situation="cambriolage_vol", commune="02408", needs=["plainte"]))
    assert r.contacts[0]["id"] == "police-secours-17"
    assert r.contacts[0]["why"].startswith("Si vous venez de le découvrir")
    assert "samu-social-115" not in {c["id"] for c in r.contacts}
    assert "police-secours-17" not in {c["id"] for c in r.if_danger}  # 17 once
    texts = " ".join(st["text"] for st in r.steps)
    assert "assurance" in texts and "opposition" in texts and "commissariat" in texts
    assert any(st["service"] == "pre-plainte-en-ligne" for st in r.steps)


def test_plan_text_has_the_plan_structure_and_only_directory_digits(directory, orienter):
    r = orienter.orient(build_request(directory.vocabulary, situation="violences_conjugales", commune="02722",
                                      needs=["plainte", "soutien_psy", "juridique"]))
    text = plan_text(r, "Voici ce que je vous propose.")
    heads = ["À contacter d'abord :", "Ensuite, selon vos besoins :", "Ce que vous pouvez faire :", "En cas de danger :"]
    positions = [text.index(h) for h in heads]
    assert positions == sorted(positions)
    assert text.startswith("Voici ce que je vous propose.")
    assert not re.search(r"^\s*\d+[.)]", text, re.M)  # bullets, not numbers
    rest = text
    for c in r.contacts + r.if_danger + [st["contact"] for st in r.steps if st.get("contact")]:
        for k in ("name", "phone_display", "sms", "url", "email", "address"):
            if c.get(k):
                rest = rest.replace(c[k], "")
    assert not re.search(r"\d", rest), rest
    danger = orienter.orient(build_request(directory.vocabulary, danger=True))
    text = plan_text(danger)
    # in danger: 17 first, the other emergency numbers once under the plan, never twice
    assert text.index("Police secours") < text.index("En cas de danger") < text.index("Numéro d'urgence européen")
    assert text.count("Numéro d'urgence européen") == 1


def _rules_dir(tmp_path, extra: str):
    d = tmp_path / "rules"
    d.mkdir()
    for f in RULES_DIR.glob("*.rules.yml"):
        shutil.copy(f, d / f.name)
    (d / "zz-test.rules.yml").write_text(textwrap.dedent(extra), encoding="utf-8")
    return d


UNREACHABLE = """\
rules:
  - id: test-tgd
    when:
      situation: [violences_conjugales]
    then:
      - service: telephone-grave-danger
        why: "Un téléphone pour alerter."
"""


def test_rules_check_warns_about_an_unreachable_contact(directory, tmp_path, db_path, monkeypatch):
    d = _rules_dir(tmp_path, UNREACHABLE)
    rs = load_rules(directory.snapshot, directory.vocabulary, d)  # a warning does not stop the rules
    [w] = [w for w in rs.warnings if w.code == "unreachable_contact"]
    assert (w.file, w.line, w.rule) == ("zz-test.rules.yml", 6, "test-tgd")
    assert "step" in w.message and "about: telephone-grave-danger" in w.message
    # and the entry is still never shown
    o = Orienter(directory, d)
    r = o.orient(build_request(directory.vocabulary, situation="violences_conjugales"))
    assert "telephone-grave-danger" not in {c["id"] for c in r.contacts}
    monkeypatch.setenv("ORIENTATION_RULES", str(d))
    out = CliRunner().invoke(cli, ["--db", str(db_path), "rules", "check"])
    assert out.exit_code == 1 and "zz-test.rules.yml:6" in out.output and "telephone-grave-danger" in out.output


def test_shipped_rules_have_no_warning(directory, db_path):
    assert load_rules(directory.snapshot, directory.vocabulary).warnings == ()
    out = CliRunner().invoke(cli, ["--db", str(db_path), "rules", "check"])
    assert out.exit_code == 0, out.output


def test_step_through_an_unreachable_service_is_a_warning_with_a_suggestion(directory, tmp_path):
    d = _rules_dir(tmp_path, """\
        rules:
          - id: test-step
            when:
              situation: [violences_conjugales]
            then:
              - step: "Demandez une place au Samu social."
                service: hebergement-urgence-femmes-victimes
        """)
    rs = load_rules(directory.snapshot, directory.vocabulary, d)
    [w] = [w for w in rs.warnings if w.rule == "test-step"]
    assert w.code == "unreachable_contact" and w.line == 7


@pytest.mark.parametrize("item,code", [
    ('- step: "Appelez le 115."', "number_in_step"),
    ('- step: "Un texte."\n        about: telephone-grave-dangre', "unknown_service"),
    ('- step: "Un texte."\n        why: "Une raison."', "invalid_output"),
    ('- service: samu-social-115\n        why: "Une raison."\n        about: samu-social-115', "invalid_output"),
])
def test_broken_steps_are_reported(directory, tmp_path, item, code):
    d = _rules_dir(tmp_path, f"""\
rules:
  - id: test-step
    when:
      situation: [violences_conjugales]
    then:
      {item}
""")
    with pytest.raises(RulesError) as err:
        load_rules(directory.snapshot, directory.vocabulary, d)
    assert [p for p in err.value.problems if p.code == code and p.file == "zz-test.rules.yml" and p.line]


def test_if_danger_rule_must_say_no_danger(directory, tmp_path):
    d = _rules_dir(tmp_path, """\
rules:
  - id: test-show
    show: if_danger
    when:
      situation: [violences_conjugales]
    then:
      - service: police-secours-17
        why: "En cas de danger, appelez."
""")
    with pytest.raises(RulesError) as err:
        load_rules(directory.snapshot, directory.vocabulary, d)
    [p] = [p for p in err.value.problems if p.code == "invalid_show"]
    assert (p.file, p.line) == ("zz-test.rules.yml", 3)


def test_plan_layout_file_is_checked(directory, tmp_path):
    bad = (RULES_DIR / "plan.yml").read_text(encoding="utf-8").replace("acces_droit: juridique", "acces_droit: juridqiue")
    (tmp_path / "plan.yml").write_text(bad, encoding="utf-8")
    with pytest.raises(RulesError) as err:
        load_plan_spec(directory.vocabulary, tmp_path / "plan.yml")
    [p] = err.value.problems
    assert p.code == "unknown_need" and p.file == "plan.yml" and p.suggestion == "juridique" and p.line


def test_api_orientation_returns_the_plan(client):
    from conftest import contract

    body = client.post("/api/orientation", json={"situation": "violences_conjugales", "commune": "02722",
                                                 "needs": ["plainte"], "gender": "homme"}).json()
    assert body["groups"][0] == {"code": "first", "title": "À contacter d'abord"}
    assert all(c["group"] for c in body["contacts"])
    assert "violences-femmes-info-3919" not in {c["id"] for c in body["contacts"]}
    assert [c["id"] for c in body["if_danger"]][:1] == ["police-secours-17"]
    assert body["steps"] and all(set(st) >= {"text", "service"} for st in body["steps"])
    assert list(contract("orientation").iter_errors(body)) == []
    danger = client.post("/api/orientation", json={"danger": True}).json()
    assert danger["contacts"][0]["why"].startswith("Vous êtes en danger maintenant")
    assert "police-secours-17" not in [c["id"] for c in danger["if_danger"]]
    r = client.post("/api/orientation", json={"gender": "autre"})
    assert r.status_code == 422 and r.json()["field"] == "gender"


def test_staff_see_every_unreachable_entry_in_the_verification_queue(directory):
    from directory.signals import campaign

    unreachable = {s.id for s in directory.snapshot.services.values() if s.status == "active" and not s.reachable}
    assert {"telephone-grave-danger", "ordonnance-de-protection", "france-victimes-02"} <= unreachable
    listed = {i.service.id for i in campaign(directory).items if not i.reachable}
    assert listed == unreachable
