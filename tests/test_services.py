"""A service's ways in: what makes a contact reachable, and the public Contact's optional fields."""
from __future__ import annotations

import dataclasses

import pytest

from directory.phones import Phone
from directory.services import Service, address_line, contact
from conftest import contract

BARE = Service(
    id="essai", name="Service d'essai", organization=None, category="aide_victimes", description="Essai.",
    url=None, visibility="public", cost=None, emergency=False, access=None, hours=None, ages=(), roles=(),
    source="Saisie par l'équipe", verified_on="2026-01-15", a_verifier=False, phones=(), situations=(),
    area=("dep-02",), address=None, confidential_address=False)
ADDRESS = {"street": "1 rue de la Paix", "postal_code": "02000", "city": "Laon"}


@pytest.mark.parametrize("changes,ways", [
    ({}, ()),
    ({"phones": (Phone("0323000001"),)}, ("phone",)),
    ({"phones": (Phone("114", "sms"),)}, ("sms",)),
    ({"url": "https://exemple.fr/formulaire"}, ("url",)),
    ({"email": "accueil@exemple.fr"}, ("email",)),
    # an address tells when to come only with hours
    ({"address": ADDRESS}, ()),
    ({"hours": "Mo-Fr 09:00-12:00"}, ()),
    ({"address": ADDRESS, "hours": "Mo-Fr 09:00-12:00"}, ("address",)),
    # a confidential address is no way in for the public, hours or not
    ({"address": ADDRESS, "hours": "24/7", "confidential_address": True}, ()),
    ({"address": {"street": None, "postal_code": None, "city": None}, "hours": "24/7"}, ()),
    ({"phones": (Phone("0323000001"), Phone("114", "sms")), "url": "https://exemple.fr", "email": "a@exemple.fr",
      "address": ADDRESS, "hours": "24/7"}, ("phone", "sms", "url", "email", "address")),
])
def test_ways_in_and_reachable(changes, ways):
    service = dataclasses.replace(BARE, **changes)
    assert service.ways_in() == ways
    assert service.reachable is bool(ways)


def test_real_data_has_unreachable_entries_to_fix(directory):
    # Measures and units reached through others (issue 11) are unreachable by themselves.
    unreachable = {s.id for s in directory.snapshot.services.values() if not s.reachable}
    assert {"telephone-grave-danger", "ordonnance-de-protection"} <= unreachable
    assert "violences-femmes-info-3919" not in unreachable


def test_address_line():
    assert address_line(ADDRESS) == "1 rue de la Paix, 02000 Laon"
    assert address_line({"street": None, "postal_code": "02000", "city": "Laon"}) == "02000 Laon"
    assert address_line({"street": None, "postal_code": None, "city": None}) is None
    assert address_line(None) is None


def test_contact_has_optional_email_and_one_line_address():
    validator = contract("contact")
    public = dataclasses.replace(BARE, email="accueil@exemple.fr", address=ADDRESS, hours="Mo-Fr 09:00-12:00")
    c = contact(public, "Pour essayer")
    assert (c["email"], c["address"]) == ("accueil@exemple.fr", "1 rue de la Paix, 02000 Laon")
    validator.validate(c)
    secret = contact(dataclasses.replace(public, confidential_address=True), "Pour essayer")
    assert secret["address"] is None and "Paix" not in str(secret)
    validator.validate(secret)


def test_genders_come_from_the_data(directory):
    women = {s.id for s in directory.snapshot.services.values() if s.genders}
    assert women == {"violences-femmes-info-3919", "accueil-jour-femmes-soissons",
                     "accueil-jour-femmes-saint-quentin", "hebergement-urgence-femmes-victimes"}
    assert directory.service("accueil-jour-femmes-soissons").genders == ("femme",)
    assert set(directory.vocabulary.genders) == {"femme", "homme"}
