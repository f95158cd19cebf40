"""Commune resolution from free text."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("text,insee", [
    ("Château-Thierry", "02168"), ("chateau thierry", "02168"), ("CHATEAU-THIERRY", "02168"),
    ("la fere", "02304"), ("La Fère", "02304"), ("st quentin", "02691"), ("St-Quentin", "02691"),
    ("saint quentin", "02691"), ("Soissons", "02722"), ("soisson", "02722"), ("villers coterets", "02810"),
    ("Villers-Cotterêts", "02810"), ("chateau thiery", "02168"), ("hirsson", "02381"),
    ("02173", "02173"), ("à Laon", "02408"), ("près de Guise", "02361"),
    ("Guignicourt", "02360"), ("Fargniers", "02738"),
])
def test_resolves(directory, text, insee):
    res = directory.resolve_commune(text)
    assert res.status == "found", (text, res)
    assert res.commune.insee == insee


def test_shared_postal_code_gives_candidates(directory):
    res = directory.resolve_commune("02640")
    assert res.status == "ambiguous"
    names = [m.commune.name for m in res.candidates]
    assert "Saint-Simon" in names and "Tugny-et-Pont" in names


def test_postal_code_that_is_also_an_insee_code(directory):
    res = directory.resolve_commune("02200")
    assert res.status == "ambiguous"
    assert res.candidates[0].commune.name == "Soissons"  # the biggest first
    assert any(m.via == "insee" and m.commune.insee == "02200" for m in res.candidates)
    # API clients send INSEE codes
    assert directory.resolve_commune("02200", codes="insee").commune.insee == "02200"


def test_out_of_area(directory):
    for text in ("Reims", "Lille", "51100", "75011"):
        assert directory.resolve_commune(text).status == "out_of_area", text


def test_unknown_text(directory):
    assert directory.resolve_commune("xqzwv").status == "not_found"
    assert directory.resolve_commune("").status == "not_found"


def test_first_word_of_a_local_name_beats_a_homonym_elsewhere(directory):
    # Vailly exists in the Aube and Haute-Savoie; here it means Vailly-sur-Aisne.
    assert directory.resolve_commune("Vailly").commune.insee == "02758"


def test_first_word_shared_by_several_names_is_ambiguous(directory):
    res = directory.resolve_commune("bucy")
    assert res.status == "ambiguous"
    assert {"Bucy-le-Long", "Bucy-lès-Pierrepont"} <= {m.commune.name for m in res.candidates}


def test_postal_code_of_a_town_and_villages_lists_the_town_first(directory):
    res = directory.resolve_commune("02100")
    assert res.status == "ambiguous"
    assert res.candidates[0].commune.name == "Saint-Quentin"


def test_scores_are_ordered(directory):
    res = directory.resolve_commune("soisson")
    scores = [m.score for m in res.candidates]
    assert scores == sorted(scores, reverse=True)
