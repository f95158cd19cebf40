"""The corpus of conversations (tests/conversations/*.yml): one case per conversation,
played through the real dialogue; its coverage; and the runner itself (bot/corpus.py)."""
from __future__ import annotations

import statistics
import textwrap
from collections import Counter

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.corpus import CLASSES, TYPING, CorpusError, first_group, load_corpus, play, report

CORPUS = load_corpus()  # structure checked at collection; services and vocabulary in a test below
BY_ID = {c.id: c for c in CORPUS}


@pytest.fixture(scope="module")
def corpus_dialogue(directory, orienter, understander):
    """One dialogue for the whole corpus (each conversation has its own sender)."""
    from bot.dialogue import Dialogue
    from bot.sessions import SessionStore

    return Dialogue(directory, orienter, understander, SessionStore())


@pytest.fixture(scope="module")
def played(corpus_dialogue):
    """Results by conversation id, each conversation played once, when first asked for."""
    cache: dict = {}

    def get(cid):
        if cid not in cache:
            cache[cid] = play(corpus_dialogue, BY_ID[cid])
        return cache[cid]
    return get


KNOWN_FAILURES = yaml.safe_load((Path(__file__).parent / "conversations" / "known-failures.yml").read_text(encoding="utf-8"))


def _case(cid):
    """A conversation the dialogue does not pass yet is an expected failure, with its reason,
    strict: it fails the run as soon as it passes, so that it leaves the list."""
    if cid in KNOWN_FAILURES:
        return pytest.param(cid, marks=pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[cid]))
    return cid


def test_known_failures_name_real_conversations():
    assert set(KNOWN_FAILURES) <= set(BY_ID)


@pytest.mark.parametrize("cid", [_case(c) for c in BY_ID])
def test_conversation(played, cid):
    result = played(cid)
    if not result.passed:
        pytest.fail(report([result], verbose=True), pytrace=False)


# -- the corpus itself ----------------------------------------------------------------------------
def test_corpus_is_valid_against_the_directory_and_taxonomy(directory):
    conversations = load_corpus(services=directory.snapshot.services, vocabulary=directory.vocabulary)
    assert len(conversations) == len(CORPUS)


def test_corpus_covers_every_class_situation_role_profile_and_way_of_typing(directory):
    v = directory.vocabulary
    assert len(CORPUS) >= 90
    per_class = Counter(c.cls for c in CORPUS)
    assert {c for c, n in per_class.items() if n >= 5} == set(CLASSES), per_class
    covered = {key: {x for c in CORPUS for x in c.covers.get(key, [])}
               for key in ("situation", "role", "age_group", "profile", "gender", "typing")}
    assert covered["situation"] == set(v.situations)
    assert covered["role"] == set(v.roles)
    assert covered["age_group"] == set(v.age_groups)
    assert covered["profile"] == set(v.profiles)
    assert covered["gender"] == set(v.genders)
    assert covered["typing"] == set(TYPING)


def test_every_conversation_checks_something():
    for c in CORPUS:
        assert c.expect or any(t.expect for t in c.turns), c.id


def test_plans_are_short(played):
    """Issue 11: in the corpus, the median final answer has at most 7 contacts, at most 3 first."""
    finals = [r.recommendation for r in map(played, BY_ID) if r.recommendation is not None]
    assert len(finals) >= len(CORPUS) // 2
    sizes = [len(f["custom"]["contacts"]) for f in finals]
    assert statistics.median(sizes) <= 7, sorted(sizes)
    assert max(len(first_group(f["custom"]["contacts"])) for f in finals) <= 3


# -- the runner ----------------------------------------------------------------------------------------
def write(folder, text, name="x.yml"):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


GOOD = """\
conversations:
  - id: fraud-ok
    class: situations
    description: A scam and a commune.
    turns:
      - say: "un faux conseiller bancaire m'a fait valider des paiements"
        emergency: false
      - "Laon"
    expect:
      must: [info-escroqueries]
"""


def test_a_right_expectation_passes(dialogue, tmp_path):
    [conv] = load_corpus(write(tmp_path / "c", GOOD))
    result = play(dialogue, conv)
    assert result.passed, result.failures
    assert result.recommendation is not None and len(result.transcript) == 2


@pytest.mark.parametrize("change, reason", [
    ("must: [info-escroqueries]", "must: [maltraitance-3977]"),
    ("must: [info-escroqueries]", "must_not: [info-escroqueries]"),
    ("must: [info-escroqueries]", "first: [allo-enfance-en-danger-119]"),
    ("must: [info-escroqueries]", "max_contacts: 1"),
    ("emergency: false", "emergency: true"),
    ("emergency: false", "asks: danger"),
    ("emergency: false", "text_contains: [\"zebre introuvable\"]"),
])
def test_a_wrong_expectation_is_reported_failing(dialogue, tmp_path, change, reason):
    [conv] = load_corpus(write(tmp_path / "c", GOOD.replace(change, reason)))
    result = play(dialogue, conv)
    assert not result.passed
    text = report([result], verbose=True)
    assert "ÉCHEC fraud-ok" in text and "> Laon" in text  # the reasons, then the transcript


def test_no_recommendation_is_a_failure_that_names_the_last_question(dialogue, tmp_path):
    corpus = GOOD.replace('      - "Laon"\n', "")
    [conv] = load_corpus(write(tmp_path / "c", corpus))
    result = play(dialogue, conv)
    assert any("aucune recommandation" in f and "commune" in f for f in result.failures), result.failures


def test_an_error_in_the_dialogue_is_a_failure_not_a_crash(tmp_path):
    class Broken:
        def handle(self, sender, text):
            raise RuntimeError("boom")

    [conv] = load_corpus(write(tmp_path / "c", GOOD))
    result = play(Broken(), conv)
    assert result.failures == ["erreur pendant la conversation : RuntimeError: boom"]


def test_declared_danger_is_told_from_a_condition(dialogue, tmp_path):
    from bot.corpus import DECLARED_DANGER, _fold

    assert DECLARED_DANGER.search(_fold("Vous êtes en danger : appelez tout de suite"))
    assert not DECLARED_DANGER.search(_fold("Si vous êtes en danger, appelez le 17."))
    assert not DECLARED_DANGER.search(_fold("Êtes-vous en sécurité ? Vous êtes en danger ?"))


def test_loader_lists_every_problem_with_file_line_and_suggestion(tmp_path, directory):
    folder = write(tmp_path / "c", """\
        conversations:
          - id: one
            class: overwrit
            description: x
            turns: ["bonjour"]
            expect:
              must: [violences-femmes-info-3191]
              frist: [police-secours-17]
          - id: one
            class: danger
            description: y
            turns:
              - say: "bonjour"
                asks: comune
        """)
    write(folder, "conversations: [\n", name="y.yml")
    with pytest.raises(CorpusError) as err:
        load_corpus(folder, services=directory.snapshot.services, vocabulary=directory.vocabulary)
    message = err.value.message
    assert "x.yml:3" in message and "« overwrite »" in message            # class, with a suggestion
    assert "x.yml:7" in message and "violences-femmes-info-3919" in message  # unknown service
    assert "x.yml:8" in message and "« first »" in message                 # unknown key
    assert "x.yml:9" in message and "déjà utilisé" in message              # duplicate id
    assert "x.yml:14" in message and "« commune »" in message              # unknown fact
    assert "y.yml" in message and "YAML invalide" in message


def test_cli_evaluate_prints_the_rate_by_class_and_exits_1_on_failure(db_path, model_dir, tmp_path, monkeypatch):
    from web.cli import cli

    monkeypatch.setenv("ORIENTATION_MODEL", str(model_dir))
    good = write(tmp_path / "good", GOOD)
    r = CliRunner().invoke(cli, ["--db", str(db_path), "dialogue", "evaluate", "--corpus", str(good)])
    assert r.exit_code == 0, r.output
    assert "situations" in r.output and "1 / 1" in r.output
    bad = write(tmp_path / "bad", GOOD.replace("must: [info-escroqueries]", "must: [maltraitance-3977]"))
    r = CliRunner().invoke(cli, ["--db", str(db_path), "dialogue", "evaluate", "-v", "--corpus", str(bad)])
    assert r.exit_code == 1
    assert "0 / 1" in r.output and "maltraitance-3977" in r.output and "> Laon" in r.output
    r = CliRunner().invoke(cli, ["--db", str(db_path), "dialogue", "evaluate", "--class", "nope", "--corpus", str(good)])
    assert r.exit_code == 1 and "Classe inconnue" in r.output
