"""Message catalogs: every text of the conversation in French (the source), English,
Arabic and "Français facile" (easy-to-read French), managed with Babel.

Source messages are extracted from bot/dialogue.yml (`python -m bot.i18n extract` writes
bot/locale/messages.pot); translations live in bot/locale/<lang>/LC_MESSAGES/messages.po and are
compiled in memory when first used (no build step). `translator(lang)` returns a
gettext object:

    t = translator("en")
    t.gettext("Avant tout : êtes-vous en sécurité en ce moment ?")
    t.pgettext("who", "Votre sœur")      # how questions name the person concerned
    t.pgettext("pronoun", "elle")

French ("fr", or any language without a catalog) returns the source text unchanged.
`check()` lists what a catalog misses: a message, a translation, or a placeholder
({who}, {pron}…); tests/test_i18n.py fails on any of them.
"""
from __future__ import annotations

import gettext
import io
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import yaml
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

__all__ = ["LANGUAGES", "translator", "extract", "messages", "check", "direction", "LOCALE_DIR",
           "other_language_notice", "plan_words", "EXTRA"]

ROOT = Path(__file__).resolve().parent.parent
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
POT = LOCALE_DIR / "messages.pot"
DIALOGUE = Path(__file__).resolve().parent / "dialogue.yml"
PLAN = ROOT / "rules" / "plan.yml"  # the plan's headings and group titles
# Opening notes written by rules/plan.py after a contact's number (translated in the text).
PLAN_NOTES = ("fermé temporairement", "jour et nuit", "ouvert maintenant", "fermé en ce moment")
# Texts of the code itself (bot/dialogue.py).
EXTRA = ("Aucune de ces communes", "Dans quelle langue voulez-vous continuer ?",
         # web/api_chat.py: a failed or refused turn
         "Un problème technique nous empêche de vous répondre en ce moment. "
         "Si vous êtes en danger, appelez tout de suite :",
         "Le service est saturé en ce moment : réessayez dans quelques minutes. "
         "Si vous êtes en danger, appelez tout de suite :")


PAGES = (ROOT / "web" / "templates" / "base.html", ROOT / "web" / "templates" / "chat.html")
_PAGE_TEXT = re.compile(r'\b_(?:html)?\("((?:[^"\\]|\\.)*)"\)')


def _steps(node) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "step" and isinstance(value, str):
                yield value
            else:
                yield from _steps(value)
    elif isinstance(node, list):
        for value in node:
            yield from _steps(value)


def plan_words() -> tuple[str, ...]:
    return PLAN_NOTES

# code -> (name in that language, text direction). "fr" is the source language.
LANGUAGES = {
    "fr": ("Français", "ltr"),
    "en": ("English", "ltr"),
    "ar": ("العربية", "rtl"),
    "fr_FALC": ("Français facile", "ltr"),
}
# Placeholders that only French grammar needs: a translation may leave them out
# ("{who} est-{pron} en sécurité ?" is "Is {who} safe?" in English).
OPTIONAL_PLACEHOLDERS = {"pron"}
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def direction(lang: str | None) -> str:
    """"rtl" for Arabic, "ltr" otherwise (for the page's dir attribute)."""
    return LANGUAGES.get(lang or "fr", ("", "ltr"))[1]


OTHER_FILE = Path(__file__).resolve().parent / "lang_other.yml"


@lru_cache(maxsize=1)
def _other() -> dict:
    return yaml.safe_load(OTHER_FILE.read_text(encoding="utf-8"))


def other_language_notice(lang: str) -> list[str]:
    """For a language we do not answer in: the notice in that language when we have it,
    then in English and in French (the emergency numbers follow, from the directory)."""
    data = _other()
    texts = [data["texts"][lang]] if lang in data["texts"] and lang != "en" else []
    return texts + [data["texts"]["en"], data["source"]]


# ---------------------------------------------------------------- extraction
def messages(dialogue: Path | str = DIALOGUE) -> Iterator[tuple[str | None, str, str]]:
    """(context, French text, where) for every text of the dialogue a person reads."""
    spec = yaml.safe_load(Path(dialogue).read_text(encoding="utf-8"))

    def buttons(items, where):
        for i, b in enumerate(items or []):
            yield None, b["title"], f"{where}[{i}].title"

    for fact, f in (spec.get("facts") or {}).items():
        for key in ("question", "question_self", "question_other", "repeat", "ambiguous", "out_of_area", "question_after_plan"):
            if f.get(key):
                yield None, f[key], f"facts.{fact}.{key}"
        yield from buttons(f.get("buttons"), f"facts.{fact}.buttons")
        yield from buttons(f.get("buttons_other"), f"facts.{fact}.buttons_other")
        for by in ("by_role", "by_situation"):
            for code, s in (f.get(by) or {}).items():
                for key in ("question", "question_self", "question_other", "repeat"):
                    if s.get(key):
                        yield None, s[key], f"facts.{fact}.{by}.{code}.{key}"
                yield from buttons(s.get("buttons"), f"facts.{fact}.{by}.{code}.buttons")
    for key, text in (spec.get("texts") or {}).items():
        yield None, text, f"texts.{key}"
    for key, value in (spec.get("next_steps") or {}).items():
        if isinstance(value, dict):  # common: by role
            for role, items in value.items():
                for i, text in enumerate(items or []):
                    yield None, text, f"next_steps.{key}.{role}[{i}]"
        else:
            for i, text in enumerate(value or []):
                yield None, text, f"next_steps.{key}[{i}]"
    # How questions name the person concerned (see bot/dialogue.py: "Votre sœur", "La petite").
    for key, rel in (spec.get("relatives") or {}).items():
        yield "who", rel[2] if len(rel) > 2 else f"Votre {rel[0]}", f"relatives.{key}"
        yield "pronoun", rel[1], f"relatives.{key}"
    yield "who", "La personne", "dialogue.py default"
    yield "pronoun", "elle", "dialogue.py default"
    for text in EXTRA:
        yield None, text, "bot/dialogue.py"
    if PLAN.exists():
        plan = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
        for key, text in (plan.get("headings") or {}).items():
            yield None, text, f"rules/plan.yml headings.{key}"
        for key, text in (plan.get("titles") or {}).items():
            yield None, text, f"rules/plan.yml titles.{key}"
    for text in PLAN_NOTES:
        yield None, text, "rules/plan.py hours notes"
    # the steps the rules add to a plan (their `why` stays in French: formatted with {territory})
    for path in sorted((ROOT / "rules").glob("*.rules.yml")):
        for text in _steps(yaml.safe_load(path.read_text(encoding="utf-8"))):
            yield None, text, f"rules/{path.name}"
    # the chat page: {{ _("...") }} and {{ _html("...") }} in its templates
    for template in PAGES:
        if template.exists():
            for m in _PAGE_TEXT.finditer(template.read_text(encoding="utf-8")):
                yield None, m.group(1).replace('\\"', '"'), f"web/templates/{template.name}"


def extract(dialogue: Path | str = DIALOGUE) -> Catalog:
    catalog = Catalog(project="orientation-victimes", msgid_bugs_address="", fuzzy=False)
    for context, text, where in messages(dialogue):
        catalog.add(text, locations=[(where, 0)], context=context,
                    flags=["python-brace-format"] if _PLACEHOLDER.search(text) else [])
    return catalog


def write_pot(dialogue: Path | str = DIALOGUE, path: Path = POT) -> int:
    catalog = extract(dialogue)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, omit_header=False, sort_output=False)
    return len(catalog)


# ---------------------------------------------------------------- loading
def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


def read_catalog(lang: str) -> Catalog:
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=None, domain="messages")


@lru_cache(maxsize=None)
def translator(lang: str | None) -> gettext.NullTranslations:
    """A gettext object for the language: its catalog compiled in memory from the .po
    (fuzzy and empty entries are left out, so they fall back to French)."""
    if not lang or lang == "fr" or not po_path(lang).exists():
        return gettext.NullTranslations()
    buf = io.BytesIO()
    write_mo(buf, read_catalog(lang), use_fuzzy=False)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


# ---------------------------------------------------------------- checks
def check(lang: str, dialogue: Path | str = DIALOGUE, catalog: Catalog | None = None) -> list[str]:
    """Problems of a catalog: a source message missing or untranslated, marked fuzzy,
    or a translation that loses or invents a placeholder."""
    catalog = catalog if catalog is not None else read_catalog(lang)
    problems = []
    for context, text, where in messages(dialogue):
        m = catalog.get(text, context=context)
        if m is None:
            problems.append(f"{lang}: missing {where}: {text!r}")
            continue
        if not m.string or m.fuzzy:
            problems.append(f"{lang}: untranslated{' (fuzzy)' if m.fuzzy else ''} {where}: {text!r}")
            continue
        source, target = set(_PLACEHOLDER.findall(text)), set(_PLACEHOLDER.findall(m.string))
        if (source - OPTIONAL_PLACEHOLDERS) - target:
            problems.append(f"{lang}: {where} loses {sorted((source - OPTIONAL_PLACEHOLDERS) - target)}")
        if target - source:
            problems.append(f"{lang}: {where} invents {sorted(target - source)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """python -m bot.i18n extract [dialogue.yml] | check"""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["extract"]:
        n = write_pot(argv[1] if len(argv) > 1 else DIALOGUE)
        print(f"{n} messages -> {POT.relative_to(ROOT)}")
        return 0
    if argv[:1] == ["check"]:
        problems = [p for lang in LANGUAGES if lang != "fr" for p in check(lang)]
        print("\n".join(problems) or "all catalogs complete")
        return 1 if problems else 0
    print(main.__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
