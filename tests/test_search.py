"""Service search: filters, local-first ranking, accent-insensitive text, no pro leak."""
from __future__ import annotations

import pytest

from directory import DirectoryError


def ids(hits):
    return [h.service.id for h in hits]


def test_commune_and_situation(directory):
    hits, total = directory.search(commune="02173", situation="violences_conjugales", per_page=100)
    found = ids(hits)
    assert "violences-femmes-info-3919" in found and "reseau-laon-chauny-la-fere" in found
    assert "reseau-soissonnais" not in found
    assert total == len(found)


def test_local_first_then_departement_then_national(directory):
    hits, _ = directory.search(commune="02173", situation="violences_conjugales", per_page=100)
    ranks = [h.scope.rank for h in hits]
    assert ranks == sorted(ranks)
    assert hits[0].scope.kind in ("reseau", "utas")
    assert hits[-1].scope.kind == "national"


def test_text_is_accent_and_case_insensitive(directory):
    a = ids(directory.search("hebergement")[0])
    b = ids(directory.search("HÉBERGEMENT")[0])
    assert a == b and "samu-social-115" in a


def test_text_matches_french_word_forms(directory):
    assert "violences-femmes-info-3919" in ids(directory.search("violence", per_page=100)[0])


def test_user_text_cannot_break_the_query(directory):
    for q in ['"', "NEAR(", "a* OR", "')--", "***"]:
        directory.search(q)  # no exception


def test_category_filter(directory):
    hits, total = directory.search(category="reseau_victimes")
    assert total == 5 and all(h.service.category == "reseau_victimes" for h in hits)


def test_paging_is_stable(directory):
    all_ids = ids(directory.search(per_page=500)[0])
    pages = []
    for page in range(1, 20):
        chunk = ids(directory.search(per_page=7, page=page)[0])
        if not chunk:
            break
        pages += chunk
    assert pages == all_ids


def test_pro_entries_never_in_public_search(directory):
    public = ids(directory.search(per_page=500)[0])
    pro = [s.id for s in directory.snapshot.services.values() if s.visibility == "pro"]
    assert pro and not set(pro) & set(public)
    assert set(pro) <= set(ids(directory.search(per_page=500, include_pro=True)[0]))


@pytest.mark.parametrize("kwargs", [{"per_page": 501}, {"per_page": 0}, {"page": 0}, {"situation": "nope"},
                                    {"category": "nope"}])
def test_invalid_filters(directory, kwargs):
    with pytest.raises(DirectoryError):
        directory.search(**kwargs)
