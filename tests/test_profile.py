"""Profile extraction (bot/profile.py): role, age group, needs and profile flags.

Clear cases per value, negation and "both" cases, invariance to case, accents and
punctuation, the rules file failing loudly, and evaluations on the project's data
(data/nlu_heldout.yml for roles, data/nlu.yml for annotated roles and needs).
"""
from __future__ import annotations

import json
import re
import time
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.profile import (AGE_GROUPS, NEEDS, PROFILE_FLAGS, RULES_PATH, ROLES, Profile, ProfileRulesError,
                         extract_profile, load_rules)

DATA = Path(__file__).resolve().parent.parent / "data"

# ---------------------------------------------------------------- role

VICTIME = [
    "il me frappe depuis deux ans",
    "mon copain m'a giflée hier devant ses amis",
    "je me suis fait agresser en sortant du métro",
    "on m'a volé mon portefeuille au marché",
    "j'ai été violée à une fête l'année dernière",
    "mon ex me harcèle de messages toute la journée",
    "je suis victime de violences de la part de mon conjoint",
    "mon patron m'insulte et me menace de me virer",
    "ma belle-mère me traite comme une bonne",
    "c'est pour moi, je subis des coups tous les soirs",
    "il m'enferme dans la maison quand il part",
    "au secours il veut me tuer",
    "je suis cachée dans la salle de bain",
    "quelqu'un a ouvert un crédit à mon nom",
]
PROCHE = [
    "ma soeur se fait frapper par son mari",
    "mon fils est harcelé par des garçons de sa classe",
    "ma voisine hurle la nuit, je crois que son copain la bat",
    "il la frappe devant les enfants, je ne sais pas quoi faire",
    "je suis témoin de violences chez mes voisins",
    "je m'inquiète pour ma meilleure amie, son mec la contrôle",
    "mon père a été agressé dans la rue hier soir",
    "je voudrais des conseils pour une amie qui se fait battre",
    "je suis sa tante et sa mère la prive de repas",
    "notre voisin tape ses enfants tous les soirs",
    "comment je peux l'aider à partir de chez lui",
    "ma grand-mère se fait dépouiller par son voisin",
]
PROFESSIONNEL = [
    "je suis assistante sociale, une usagère m'a dit que son mari la bat",
    "je suis infirmière, une de mes patientes a des bleus sur les bras",
    "je suis éducateur spécialisé et un jeune que j'accompagne est menacé",
    "je suis enseignante, un de mes élèves arrive avec des marques",
    "je suis prof de maths et une élève m'a confié des attouchements",
    "je suis CPE dans un collège, comment aider une élève harcelée",
    "je suis médecin généraliste, je suspecte des violences sur une patiente",
    "je suis psychologue et une patiente me parle de viol",
    "je suis travailleur social, une famille que je suis est en danger",
    "je travaille dans un ehpad et une collègue maltraite les résidents",
    "en tant qu'aide-soignante je vois une résidente couverte de bleus",
    "je suis auxiliaire de vie et la fille de la dame lui prend sa pension",
]
BOTH = [  # the writer is hurt AND speaks of others: the writer is a victim
    ("mon mari me frappe et frappe les enfants", "victime"),
    ("il tape ma fille et il me menace aussi", "victime"),
    ("je suis infirmière et un patient m'a frappée", "victime"),
    ("ma soeur et moi on se fait insulter par notre père, il me gifle", "victime"),
    ("je suis prof et des élèves me harcèlent sur les réseaux", "victime"),
]


@pytest.mark.parametrize("text", VICTIME)
def test_role_victime(text):
    assert extract_profile(text).role == "victime"


@pytest.mark.parametrize("text", PROCHE)
def test_role_proche(text):
    assert extract_profile(text).role == "proche"


@pytest.mark.parametrize("text", PROFESSIONNEL)
def test_role_professionnel(text):
    assert extract_profile(text).role == "professionnel"


@pytest.mark.parametrize("text,role", BOTH)
def test_role_when_both_the_writer_is_the_victim(text, role):
    assert extract_profile(text).role == role


@pytest.mark.parametrize("text", ["", "bonjour", "violence conjugale", "vol de voiture", "?"])
def test_role_unclear_is_none(text):
    assert extract_profile(text).role is None


# ---------------------------------------------------------------- age group

MINEUR = [
    "jai 14 ans et mon pere me tape",
    "je suis en 4ème et on me harcèle",
    "mon fils de 8 ans se fait frapper à l'école",
    "ma fille de 15 ans reçoit des menaces sur snap",
    "je suis cpe et un élève de 5e est harcelé",
    "mon père me frappe quand il a bu",
    "des garçons me tapent au collège tous les jours",
    "j'ai seize ans et mon beau-père me touche",
    "ma petite soeur se fait taper par ma mère",
]
ADULTE = [
    "j'ai 35 ans et mon mari me frappe",
    "je suis un homme de 46 ans, ma femme me frappe",
    "ma fille de 24 ans est sous l'emprise de son copain",
    "mon compagnon me menace depuis des mois",
    "ma soeur se fait frapper par son mari",
    "je suis assistante sociale, une dame de 40 ans me dit que son mari la bat",
    "mon patron m'humilie au travail",
    "mon père me frappe encore à 25 ans",
    "une jeune majeure que je suis est forcée à se prostituer",
]
SENIOR = [
    "ma grand-mère de 86 ans se fait voler par son aide à domicile",
    "j'ai 79 ans et mon petit-fils me prend ma retraite",
    "ma mère de 85 ans est maltraitée",
    "mon grand-père est frappé par son fils",
    "une personne âgée de mon quartier est laissée sans soins",
    "ma tante est en ehpad et on la laisse sans manger",
    "je suis infirmière, un patient de 87 ans vit dans la crasse",
    "mon père a Alzheimer et son voisin lui vide son compte",
    "je suis retraitée et mon voisin me harcèle",
]


@pytest.mark.parametrize("text", MINEUR)
def test_age_mineur(text):
    assert extract_profile(text).age_group == "mineur"


@pytest.mark.parametrize("text", ADULTE)
def test_age_adulte(text):
    assert extract_profile(text).age_group == "adulte"


@pytest.mark.parametrize("text", SENIOR)
def test_age_senior(text):
    assert extract_profile(text).age_group == "senior"


@pytest.mark.parametrize("text", ["on m'a volé mon vélo", "il me frappe", "je veux porter plainte"])
def test_age_unknown_is_none(text):
    assert extract_profile(text).age_group is None


def test_age_is_the_victims_not_the_writers():
    # a 17-year-old writes about an adult sister; an adult writes about a child
    assert extract_profile("j'ai 17 ans et ma soeur de 30 ans se fait frapper par son mari").age_group == "adulte"
    assert extract_profile("j'ai 40 ans et mon fils de 12 ans est harcelé").age_group == "mineur"
    # the victim's age, not the aggressor's
    assert extract_profile("un homme de 40 ans envoie des messages à ma fille de 13 ans").age_group == "mineur"


# ---------------------------------------------------------------- needs

NEED_CASES = {
    "hebergement": [
        "je sais pas ou dormir ce soir",
        "mon mari m'a mise dehors, je suis à la rue",
        "je veux partir de chez moi avec les enfants",
        "je dors dans ma voiture depuis une semaine",
        "je cherche une place en foyer",
        "j'ai besoin d'un hébergement d'urgence",
        "je peux pas rentrer chez moi, il m'attend",
    ],
    "plainte": [
        "je veux porter plainte",
        "comment déposer plainte contre mon ex",
        "est-ce que je peux faire une main courante",
        "je voudrais aller à la gendarmerie pour le dénoncer",
        "je sais pas si je dois porter plainte",
        "plainte pour vol de téléphone",
    ],
    "soutien_psy": [
        "j'ai besoin de parler à un psy",
        "j'ai besoin de parler à quelqu'un",
        "je vais mal depuis l'agression",
        "je fais des cauchemars toutes les nuits",
        "j'ai des angoisses quand je sors",
        "je cherche un soutien psychologique pour mon fils",
    ],
    "juridique": [
        "quels sont mes droits pour la garde des enfants",
        "j'ai besoin d'un avocat",
        "je veux divorcer",
        "est-ce que le juge peut l'éloigner",
        "y a-t-il prescription pour un viol d'il y a 15 ans",
        "comment obtenir une ordonnance de protection",
    ],
    "medical": [
        "j'ai des bleus partout il me faut un certificat",
        "je saigne du nez, il m'a frappée",
        "il faut que j'aille voir un médecin",
        "je suis blessée au bras",
        "je dois aller aux urgences",
        "je voudrais un dépistage après le viol",
    ],
}


@pytest.mark.parametrize("need,text", [(n, t) for n, texts in NEED_CASES.items() for t in texts])
def test_need(need, text):
    assert need in extract_profile(text).needs


@pytest.mark.parametrize("text,absent", [
    ("je ne veux pas porter plainte", "plainte"),
    ("elle veut pas porter plainte", "plainte"),
    ("je n'ai pas envie de porter plainte", "plainte"),
    ("j'ai déjà porté plainte la semaine dernière", "plainte"),
    ("je ne veux pas d'avocat", "juridique"),
    ("je veux pas voir de psy", "soutien_psy"),
    ("je ne suis pas blessée", "medical"),
    ("je suis psychologue, une patiente me parle de coups", "soutien_psy"),
    ("je suis avocate et une cliente me parle de violences", "juridique"),
    ("il est en garde à vue", "juridique"),
])
def test_negated_or_unrelated_need_is_absent(text, absent):
    assert absent not in extract_profile(text).needs


def test_negation_stops_at_a_new_clause():
    # "pas" belongs to another clause
    assert "plainte" in extract_profile("il me frappe de plus en plus, je veux porter plainte").needs
    assert "plainte" in extract_profile("je sais pas si je dois porter plainte").needs


def test_needs_keep_the_contract_order():
    needs = extract_profile("j'ai besoin d'un avocat, je suis à la rue, je veux porter plainte, je vais mal").needs
    assert needs == ("hebergement", "plainte", "soutien_psy", "juridique")


# ---------------------------------------------------------------- profile flags

FLAG_CASES = {
    "sourd": ["je suis sourde", "je suis malentendant et mon voisin me menace",
              "je ne peux pas parler il est à côté", "je ne peux pas téléphoner"],
    "handicap": ["je suis handicapée et mon aidant me frappe", "mon frère en fauteuil roulant est maltraité",
                 "ma soeur est trisomique et on lui prend son AAH"],
    "enceinte": ["je suis enceinte de 5 mois et il me frappe", "il me pousse alors que j'attends un bébé",
                 "depuis ma grossesse il est violent"],
    "avec_enfants": ["je veux partir avec mes enfants", "il m'a mise dehors avec les petits",
                     "je suis enfermée avec le bébé", "j'ai trois enfants et il me menace"],
}


@pytest.mark.parametrize("flag,text", [(f, t) for f, texts in FLAG_CASES.items() for t in texts])
def test_profile_flag(flag, text):
    assert flag in extract_profile(text).profile


@pytest.mark.parametrize("text,absent", [
    ("je ne suis pas enceinte", "enceinte"),
    ("il n'est pas handicapé", "handicap"),
    ("je peux parler maintenant", "sourd"),
    ("ma mère de 85 ans est maltraitée", "avec_enfants"),
])
def test_profile_flag_absent(text, absent):
    assert absent not in extract_profile(text).profile


# ---------------------------------------------------------------- output shape, purity, speed

def test_output_values_stay_in_the_contract():
    for text in VICTIME + PROCHE + PROFESSIONNEL + MINEUR + ADULTE + SENIOR:
        p = extract_profile(text)
        assert isinstance(p, Profile)
        assert p.role in (*ROLES, None)
        assert p.age_group in (*AGE_GROUPS, None)
        assert list(p.needs) == [n for n in NEEDS if n in p.needs]
        assert list(p.profile) == [f for f in PROFILE_FLAGS if f in p.profile]


def test_deterministic():
    text = "jsuis a st quentin mon mec ma frappé, jsp ou dormir"
    assert extract_profile(text) == extract_profile(text)


def test_fast_enough():
    messages = [m["text"] for m in _heldout()]
    started = time.perf_counter()
    for i, text in enumerate(messages):
        extract_profile(f"{text} {i}")  # defeat normalize's cache
    per_message = (time.perf_counter() - started) / len(messages)
    assert per_message < 0.002, f"{per_message * 1000:.2f} ms per message"


# ---------------------------------------------------------------- case, accents, punctuation

INVARIANCE_TEXTS = VICTIME + PROCHE + PROFESSIONNEL + [t for texts in NEED_CASES.values() for t in texts] + [
    t for texts in FLAG_CASES.values() for t in texts] + MINEUR + SENIOR
SEPARATORS = [" ", "  ", ", ", " ! ", "... ", " ? ", " - ", " ; ", " : ", " (", ") "]


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@st.composite
def variants(draw) -> tuple[str, str]:
    text = draw(st.sampled_from(INVARIANCE_TEXTS))
    out = []
    for word in text.split(" "):
        if draw(st.booleans()):
            word = _strip_accents(word)
        case = draw(st.sampled_from(["keep", "upper", "title", "random"]))
        if case == "upper":
            word = word.upper()
        elif case == "title":
            word = word.capitalize()
        elif case == "random":
            flips = draw(st.lists(st.booleans(), min_size=len(word), max_size=len(word)))
            word = "".join(c.swapcase() if f else c for c, f in zip(word, flips))
        word = word.replace("'", draw(st.sampled_from(["'", "’", " "])))
        out.append(word)
        out.append(draw(st.sampled_from(SEPARATORS)))
    return text, draw(st.sampled_from(["", ".", "!!!", " ?", "..."])) + "".join(out) + draw(st.sampled_from(["", ".", "!", " ?!"]))


@settings(max_examples=300, deadline=None)
@given(variants())
def test_case_accents_and_punctuation_do_not_change_the_result(pair):
    original, variant = pair
    assert extract_profile(variant) == extract_profile(original)


# ---------------------------------------------------------------- the rules file

def test_rules_load_and_every_value_has_rules():
    rules = load_rules()
    assert {r.value for r in rules.roles} == set(ROLES)
    assert {r.value for r in rules.needs} == set(NEEDS)
    assert {r.value for r in rules.flags} == set(PROFILE_FLAGS)
    assert {r.value for r in rules.age_markers} == set(AGE_GROUPS)
    assert all(r.note for r in rules.roles + rules.ages + rules.age_markers + rules.needs + rules.flags)


def _broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "profile.yml"
    text = RULES_PATH.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_broken_regex_fails_loudly_with_file_and_id(tmp_path):
    path = _broken_copy(tmp_path, "- id: self-call-for-help\n      tier: 2\n      pattern: '",
                        "- id: self-call-for-help\n      tier: 2\n      pattern: '(unclosed")
    with pytest.raises(ProfileRulesError) as err:
        load_rules(path)
    assert str(path) in str(err.value) and "self-call-for-help" in str(err.value)


def test_an_unknown_fragment_fails_loudly(tmp_path):
    path = _broken_copy(tmp_path, "pattern: '\\b(?:me|m)(?: @glue)* @harm\\b'", "pattern: '\\b(?:me|m) @harmm\\b'")
    with pytest.raises(ProfileRulesError, match=r"me-harm.*@harmm"):
        load_rules(path)


def test_a_duplicate_id_or_unknown_value_fails_loudly(tmp_path):
    with pytest.raises(ProfileRulesError, match="duplicate id"):
        load_rules(_broken_copy(tmp_path, "- id: self-call-for-help", "- id: me-harm"))
    with pytest.raises(ProfileRulesError, match="unknown key"):
        load_rules(_broken_copy(tmp_path, "  hebergement:\n", "  logement:\n"))


# ---------------------------------------------------------------- evaluation on the project's data

def _heldout() -> list[dict]:
    return yaml.safe_load((DATA / "nlu_heldout.yml").read_text(encoding="utf-8"))["messages"]


_ANNOTATION = re.compile(r"\[([^\]]+)\](\{[^}]*\}|\([^)]*\))")


def _annotated_examples() -> list[tuple[str, list[str], list[str]]]:
    """(plain text, annotated roles, annotated needs) of data/nlu.yml examples with a role or need."""
    out = []
    for block in yaml.safe_load((DATA / "nlu.yml").read_text(encoding="utf-8"))["nlu"]:
        for line in (block.get("examples") or "").splitlines():
            line = line.strip()
            if not line.startswith("- "):
                continue
            roles, needs = [], []
            for match in _ANNOTATION.finditer(line):
                if match.group(2).startswith("{"):
                    entity = json.loads(match.group(2))
                    {"role": roles, "need": needs}.get(entity.get("entity"), []).append(entity.get("value"))
            if roles or needs:
                out.append((_ANNOTATION.sub(lambda m: m.group(1), line[2:]), roles, needs))
    return out


def test_role_accuracy_on_heldout():
    labelled = [m for m in _heldout() if m.get("role") is not None]
    hits = sum(extract_profile(m["text"]).role == m["role"] for m in labelled)
    accuracy = hits / len(labelled)
    print(f"\nrole accuracy on data/nlu_heldout.yml: {hits}/{len(labelled)} = {accuracy:.3f}")
    assert accuracy >= 0.85


def test_annotated_roles_and_needs_in_nlu():
    examples = _annotated_examples()
    role_total = role_hits = need_total = need_hits = 0
    for text, roles, needs in examples:
        found = extract_profile(text)
        role_total += len(roles)
        role_hits += sum(found.role == r for r in roles)
        need_total += len(needs)
        need_hits += sum(n in found.needs for n in needs)
    assert role_total and need_total
    print(f"\ndata/nlu.yml annotated roles: {role_hits}/{role_total} = {role_hits / role_total:.3f}; "
          f"annotated needs recalled: {need_hits}/{need_total} = {need_hits / need_total:.3f}")
    assert need_hits / need_total >= 0.85
    assert role_hits / role_total >= 0.8


def test_annotation_stripping():
    line = '[ma soeur]{"entity": "role", "value": "proche"} se fait frapper à [Chauny](commune)'
    assert _ANNOTATION.sub(lambda m: m.group(1), line) == "ma soeur se fait frapper à Chauny"
