"""The deterministic danger and distress detector (bot/danger/ and bot/danger.yml).

Recall comes first: every reviewed positive must be detected (a false alarm shows
17/112/114 first, a miss can cost a life), also when people write it differently
(case, accents, punctuation, emoji, repeated letters, SMS spellings).
"""
from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.danger import LEXICON, LEXICON_PATH, DangerLexiconError, Flags, detect, load_lexicon
from bot.danger.matching import Clauses, WordRegex
from bot.normalize import clauses, prepare_clauses

ROOT = Path(__file__).resolve().parent.parent
PHRASES = yaml.safe_load((ROOT / "tests" / "data" / "danger_phrases.yml").read_text(encoding="utf-8"))
HELDOUT = yaml.safe_load((ROOT / "data" / "nlu_heldout.yml").read_text(encoding="utf-8"))["messages"]
FLAGS = ("danger", "distress")

# Negatives of the reviewed list that cannot be rejected without losing recall. Each entry
# needs a comment saying why; the report lists them. Empty today.
known_false_alarms: dict[str, list[str]] = {"danger": [], "distress": []}


def _cases(flag: str, polarity: str) -> list[str]:
    return list(PHRASES[flag][polarity])


# ---------------------------------------------------------------- 1. the reviewed phrase list

@pytest.mark.parametrize("text", _cases("danger", "positive"))
def test_danger_positive_is_detected(text: str) -> None:
    assert detect(text).danger, text


@pytest.mark.parametrize("text", _cases("danger", "possible"))
def test_danger_possible_is_possible(text: str) -> None:
    flags = detect(text)
    assert flags.danger_level == "possible" and not flags.danger, (text, flags)


@pytest.mark.parametrize("text", _cases("danger", "negative"))
def test_danger_negative_is_not_detected(text: str) -> None:
    if text in known_false_alarms["danger"]:
        pytest.xfail("known false alarm, kept for recall")
    flags = detect(text)
    assert not flags.danger, (text, flags.danger_evidence)


@pytest.mark.parametrize("text", _cases("distress", "positive"))
def test_distress_positive_is_detected(text: str) -> None:
    assert detect(text).distress, text


@pytest.mark.parametrize("text", _cases("distress", "negative"))
def test_distress_negative_is_not_detected(text: str) -> None:
    if text in known_false_alarms["distress"]:
        pytest.xfail("known false alarm, kept for recall")
    flags = detect(text)
    assert not flags.distress, (text, flags.distress_evidence)


def test_phrase_list_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """Recall 100 % on the reviewed list; precision printed (known false alarms only)."""
    for flag in FLAGS:
        pos, neg = _cases(flag, "positive"), _cases(flag, "negative")
        tp = sum(getattr(detect(t), flag) for t in pos)
        fp = sum(getattr(detect(t), flag) for t in neg)
        with capsys.disabled():
            print(f"\nphrase list {flag}: recall {tp}/{len(pos)}, "
                  f"precision {tp / max(tp + fp, 1):.3f} ({fp} false alarms on {len(neg)} negatives)")
        assert tp == len(pos)
        assert fp <= len(known_false_alarms[flag])


# ---------------------------------------------------------------- 2. how people write

SMS_TABLE = [  # standard spelling -> SMS spelling (applied to the original phrase)
    ("je suis", "jsuis"), ("il m'a", "il ma"), ("m'a", "ma"), ("au secours", "o secour"),
    ("qu'il", "kil"), ("je vais", "jvais"), ("je veux", "jveux"), ("j'ai", "g"), ("c'est", "c"),
    ("il y a", "ya"), ("maintenant", "mtn"), ("quelqu'un", "qqn"), ("je me", "jme"),
    ("pas", "pa"), ("dans", "ds"), ("pour", "pr"), ("toujours", "tjrs"), ("beaucoup", "bcp"),
    ("je peux", "jpeux"), ("tout", "tt"), ("je ne", "je"), ("n'en", "en"),
]
ACCENTS = {"a": "àâ", "e": "éèêë", "i": "îï", "o": "ô", "u": "ùûü", "c": "ç"}
INSIDE = [",", " ,", " - ", "😱", "🙏", "😭", "💔", " (", ") ", " *", '"', " :", "  "]
AT_END = ["!!!", "?", "...", " 😱😱", " !!", " ?!", "🙏", "."]


def vary(text: str, rnd: random.Random) -> str:
    """The same message as someone else might type it."""
    for standard, sms in SMS_TABLE:
        if rnd.random() < 0.5:
            text = re.sub(rf"(?i)(?<![\w']){re.escape(standard)}(?![\w'])", sms, text)
    if rnd.random() < 0.3:  # no accents at all
        text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
    else:  # accents added here and there
        text = "".join(rnd.choice(ACCENTS[c]) if c in ACCENTS and rnd.random() < 0.15 else c for c in text)
    words = text.split()
    for i, w in enumerate(words):  # letters repeated for emphasis ("auuu secouuurs")
        if len(w) >= 2 and w.isalpha() and rnd.random() < 0.25:
            j = rnd.randrange(len(w))
            words[i] = w[:j] + w[j] * rnd.randint(2, 5) + w[j + 1 :]
    for i, w in enumerate(words):  # random upper and lower case
        style = rnd.random()
        if style < 0.15:
            words[i] = w.upper()
        elif style < 0.5:
            words[i] = "".join(c.upper() if rnd.random() < 0.4 else c for c in w)
    out = []
    for w in words:  # punctuation, emoji, extra spaces between words (never a sentence break)
        out.append(w)
        if rnd.random() < 0.2:
            out.append(rnd.choice(INSIDE))
    sep = rnd.choice([" ", " ", "  ", "   "])
    return rnd.choice(["", " ", "  "]) + sep.join(out) + (rnd.choice(AT_END) if rnd.random() < 0.6 else "")


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.sampled_from(_cases("danger", "positive")), rnd=st.randoms(use_true_random=False))
def test_danger_positives_survive_variations(text: str, rnd: random.Random) -> None:
    varied = vary(text, rnd)
    assert detect(varied).danger, (text, varied)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.sampled_from(_cases("danger", "possible")), rnd=st.randoms(use_true_random=False))
def test_danger_possible_survives_variations(text: str, rnd: random.Random) -> None:
    varied = vary(text, rnd)
    assert detect(varied).danger_level == "possible", (text, varied, detect(varied))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.sampled_from(_cases("distress", "positive")), rnd=st.randoms(use_true_random=False))
def test_distress_positives_survive_variations(text: str, rnd: random.Random) -> None:
    varied = vary(text, rnd)
    assert detect(varied).distress, (text, varied)


@pytest.mark.parametrize("text", [
    "AU SECOURS", "auuuu secouuurs", "o secour", "ooo secouuur !!!", "Au Secours 😱😱",
    "jsuis en dangé", "il ma etrangler la il recommence", "il me frapppppe", "il m'frappe",
    "kil arrete il va me tuer", "jveu plu vivre", "jtiens plu", "jpp je veux mourir",
    "g envie de mourir", "je vé me tué", "il v me tuer", "il defonc la porte",
])
def test_spellings_seen_in_messages(text: str) -> None:
    flags = detect(text)
    assert flags.danger or flags.distress, text


# ---------------------------------------------------------------- 3. negation and time

PAIRS = [  # (present: danger, past / negated / safe / not literal: not danger)
    ("il me frappe", "il ne me frappe plus"),
    ("il me frappe", "il me frappe pas, il crie juste"),
    ("il me frappe là", "il m'a frappée il y a trois ans"),
    ("il me frappe en ce moment", "il me frappait quand j'étais petite"),
    ("il me frappe", "mon mari me frappe régulièrement depuis des années"),
    ("il m'étrangle", "il m'a étranglée il y a deux ans"),
    ("il m'étrangle", "il ne m'a jamais étranglée"),
    ("je suis en danger", "je ne suis pas en danger"),
    ("je suis en danger", "je suis plus en danger, je suis chez ma mère"),
    ("il va me tuer", "il m'a menacée de mort l'an dernier mais il est parti"),
    ("il va me tuer", "il va me tuer au scrabble"),
    ("il va me tuer", "si un jour il dit qu'il va me tuer, je fais quoi ?"),
    ("il a un couteau", "il avait un couteau il y a deux ans"),
    ("il me menace avec un couteau", "il m'a menacée avec un couteau à Noël, il vit loin maintenant"),
    ("il est devant la porte", "il était devant la porte hier"),
    ("il est là", "non il n'est pas là"),
    ("il défonce la porte", "il a défoncé la porte l'année dernière"),
    ("il me cherche dans la rue", "il me cherchait il y a longtemps, c'est fini"),
    ("je suis enfermée", "je ne suis plus enfermée"),
    ("je suis enfermée", "je me suis enfermée dehors"),
    ("il me tape dessus là", "il ne me tape pas"),
    ("au secours il me frappe", "il me frappait, maintenant je suis en sécurité chez ma soeur"),
    ("il me frappe", "il me frappait avant, il est en prison maintenant"),
    ("quelqu'un est entré chez moi", "des voleurs sont entrés pendant qu'on dormait le mois dernier"),
    ("il a sorti un couteau", "dans le film il a sorti un couteau"),
    ("je saigne beaucoup", "je me suis coupée en cuisinant, ça saigne un peu"),
]


@pytest.mark.parametrize(("present", "other"), PAIRS)
def test_negation_and_time(present: str, other: str) -> None:
    assert detect(present).danger, present
    assert not detect(other).danger, (other, detect(other).danger_evidence)


@pytest.mark.parametrize("text", [
    "il m'a frappée hier et là il revient avec un couteau",
    "il y a trois ans il m'a étranglée, là il est devant la porte",
    "il m'a frappée la semaine dernière mais maintenant il est devant chez moi",
    "il est parti mais là il revient",
    "je suis chez ma soeur mais il est devant la porte avec un couteau",
    "il me frappe souvent mais là il a pris un couteau",
])
def test_present_beats_past_and_later_danger_beats_earlier_safety(text: str) -> None:
    assert detect(text).danger, (text, detect(text))


@pytest.mark.parametrize(("text", "danger", "distress"), [
    ("il va me tuer", True, False),
    ("je vais me tuer", False, True),
    ("jvais me tuer", False, True),
    ("je veux mourir", False, True),
    ("je ne veux pas mourir", False, False),
    ("je veux en finir", False, True),
    ("je veux en finir avec ce dossier", False, False),
    ("je veux plus vivre avec lui", False, False),
    ("je veux disparaître de sa vie", False, False),
    ("je suis morte de peur, il est devant la porte", True, False),
    ("il va me tuer et je veux mourir", True, True),
])
def test_danger_and_distress_are_told_apart(text: str, danger: bool, distress: bool) -> None:
    flags = detect(text)
    assert (flags.danger, flags.distress) == (danger, distress), (text, flags)


# ---------------------------------------------------------------- 4. evidence

PATTERN_IDS = {section: {p.id for p in LEXICON.patterns[section]} for section in ("danger", "possible", "distress")}


def _check_evidence(flags: Flags) -> None:
    """Evidence is made of the lexicon's own pattern ids, so it cannot carry the message."""
    assert flags.danger == bool(flags.danger_evidence) == (flags.danger_level == "certain")
    assert (flags.danger_level == "possible") == (bool(flags.possible_evidence) and not flags.danger)
    assert flags.distress == bool(flags.distress_evidence)
    assert set(flags.danger_evidence) <= PATTERN_IDS["danger"]
    assert set(flags.possible_evidence) <= PATTERN_IDS["danger"] | PATTERN_IDS["possible"]
    assert set(flags.distress_evidence) <= PATTERN_IDS["distress"]


ALL_PHRASES = [t for f in FLAGS for pol in PHRASES[f] for t in _cases(f, pol)]


@pytest.mark.parametrize("text", ALL_PHRASES)
def test_evidence_is_pattern_ids_only(text: str) -> None:
    _check_evidence(detect(text))


@settings(max_examples=200, deadline=None)
@given(text=st.sampled_from(_cases("danger", "positive") + _cases("danger", "possible") + _cases("distress", "positive")),
       marker=st.integers(min_value=10, max_value=10**9).map(lambda n: f"Qzx{n}Vkj"))
def test_evidence_never_holds_the_message(text: str, marker: str) -> None:
    flags = detect(f"{marker}. {text}. {marker.lower()}")
    assert flags.danger_level or flags.distress
    _check_evidence(flags)
    evidence = flags.danger_evidence + flags.possible_evidence + flags.distress_evidence
    assert not any(marker.lower() in item.lower() for item in evidence)
    assert marker.lower() not in repr(flags).lower()


def _word_regexes() -> list[WordRegex]:
    items = [p.regex for ps in LEXICON.patterns.values() for p in ps]
    return items + [g.regex for kind in ("now", "safety") for g in LEXICON.guards[kind]]


def _reference_hits(rx: WordRegex, prepared: list[str]) -> list[tuple[int, int, int]]:
    """The plain reading of a pattern: matched where a word starts, every regex tried
    at every position of every clause."""
    if rx.whole:
        return [(ci, 0, len(c)) for ci, c in enumerate(prepared) if re.fullmatch(rx.source, c)]
    plain = re.compile(rf"(?<![^ ])(?:{rx.source})")
    return [(ci, m.start(), m.end()) for ci, c in enumerate(prepared) for m in plain.finditer(c)]


def _fast_hits(rx: WordRegex, prepared: list[str]) -> list[tuple[int, int, int]]:
    return [(ci, h.start, h.end) for ci, h in rx.message_hits(Clauses(prepared))]


@pytest.mark.parametrize("text", ALL_PHRASES + [m["text"] for m in HELDOUT])
def test_speed_ups_change_nothing(text: str) -> None:
    """Searching without assertions first, over the joined clauses, finds exactly what the
    plain regexes find."""
    prepared = prepare_clauses(clauses(text))
    for rx in _word_regexes():
        assert _fast_hits(rx, prepared) == _reference_hits(rx, prepared), (text, rx.source[:80])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.sampled_from(ALL_PHRASES), min_size=1, max_size=6),
       rnd=st.randoms(use_true_random=False))
def test_speed_ups_change_nothing_on_variations(texts: list[str], rnd: random.Random) -> None:
    text = rnd.choice([" ", ", ", ". ", " mais ", " et "]).join(vary(t, rnd) for t in texts)
    prepared = prepare_clauses(clauses(text))
    for rx in _word_regexes():
        assert _fast_hits(rx, prepared) == _reference_hits(rx, prepared), (text, rx.source[:80])


def test_no_private_regex_api() -> None:
    """The detector (and the rest of the code) uses the public `re` API only: no
    re._parser / sre_parse / sre_compile, which change between Python versions."""
    private = re.compile(r"\b(?:re\._parser|re\._compiler|re\._constants|re\._casefix|sre_parse|sre_compile|sre_constants)\b"
                         r"|from\s+re\s+import\s+_\w+")
    offenders = []
    for package in ("bot", "rules", "directory", "web"):
        for path in (ROOT / package).rglob("*.py"):
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if private.search(line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, offenders


def test_detect_is_pure_and_total() -> None:
    for text in ["", " ", "\n", "😱" * 50, "a" * 5000, "il me frappe " * 300, "\x00\x01", "là"]:
        assert detect(text) == detect(text)
    assert detect("") == Flags(False, False)
    with pytest.raises(TypeError):  # not silently "no danger": the caller fails safe
        detect(None)  # type: ignore[arg-type]


def _long_messages(sentences: list[str], count: int, seed: int) -> list[str]:
    """2,000-character messages made of these sentences, each clause new to the caches."""
    rnd, out = random.Random(seed), []
    for i in range(count):
        pool = list(sentences)
        rnd.shuffle(pool)
        text = ""
        for j, sentence in enumerate(pool):
            if len(text) >= 2000:
                break
            text += f"{sentence} {i}x{j}. "
        out.append(text[:2000])
    return out


def test_detect_is_fast_on_a_long_message(capsys: pytest.CaptureFixture[str]) -> None:
    """Stories (the held-out messages one after the other) and, worse, the reviewed phrases
    one after the other (about 55 clauses, most of them dangerous)."""
    phrases = [t for f in FLAGS for pol in ("positive", "negative") for t in _cases(f, pol)]
    for name, texts in (("story", _long_messages([m["text"] for m in HELDOUT], 80, 1)),
                        ("dense", _long_messages(phrases, 80, 7))):
        times = []
        for text in texts:  # the best of three runs: the CPU may be shared with other jobs
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                detect(text)
                best = min(best, time.perf_counter() - start)
            times.append(best)
        times.sort()
        median = times[len(times) // 2]
        with capsys.disabled():
            print(f"\ndetect on 2,000-character {name} messages: median {median * 1000:.3f} ms, "
                  f"90th percentile {times[int(len(times) * 0.9)] * 1000:.3f} ms")
        # About 1 ms (story) and 4 ms (dense) on an idle developer machine, three times that
        # on two cores shared with other jobs: a generous bound, that a pattern which
        # backtracks badly still breaks.
        assert median < 0.025


# ---------------------------------------------------------------- 5. lexicon validation

def _broken_copy(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(LEXICON_PATH.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "danger.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_lexicon_is_valid() -> None:
    lexicon = load_lexicon(LEXICON_PATH)
    assert lexicon.patterns["danger"] and lexicon.patterns["distress"]
    ids = [p.id for f in FLAGS for p in lexicon.patterns[f]]
    assert len(ids) == len(set(ids))


def test_broken_regex_names_file_and_id(tmp_path: Path) -> None:
    def edit(data):
        data["danger"][1]["pattern"] = r"\bau (secours"
    path = _broken_copy(tmp_path, edit)
    bad_id = yaml.safe_load(path.read_text(encoding="utf-8"))["danger"][1]["id"]
    with pytest.raises(DangerLexiconError) as err:
        load_lexicon(path)
    assert str(path) in str(err.value) and bad_id in str(err.value)


def test_duplicate_id_names_file_and_id(tmp_path: Path) -> None:
    def edit(data):
        data["distress"][2]["id"] = data["danger"][0]["id"]
    path = _broken_copy(tmp_path, edit)
    dup = yaml.safe_load(path.read_text(encoding="utf-8"))["danger"][0]["id"]
    with pytest.raises(DangerLexiconError, match="duplicate") as err:
        load_lexicon(path)
    assert str(path) in str(err.value) and dup in str(err.value)


@pytest.mark.parametrize(("where", "key", "value", "expected"), [
    ("danger", "pattern", r"{no_such_fragment}", "unknown fragment"),
    ("distress", "note", "", "missing note"),
    ("danger", "unless", "(", "invalid regex"),
    ("danger", "needs_now", "yes", "must be true or false"),
    ("guards", "kind", "sometimes", "'kind' must be one of"),
])
def test_other_invalid_entries_name_file_and_id(tmp_path: Path, where: str, key: str, value: str, expected: str) -> None:
    def edit(data):
        data[where][0][key] = value
    path = _broken_copy(tmp_path, edit)
    entry_id = yaml.safe_load(path.read_text(encoding="utf-8"))[where][0]["id"]
    with pytest.raises(DangerLexiconError, match=re.escape(expected)) as err:
        load_lexicon(path)
    assert str(path) in str(err.value) and entry_id in str(err.value)


def test_invalid_lexicon_fails_at_import(tmp_path: Path) -> None:
    """The shipped module refuses to start with a broken danger.yml (no silent fallback)."""
    pkg = tmp_path / "bot"
    pkg.mkdir()
    for name in ("__init__.py", "normalize.py", "yamlcheck.py"):
        shutil.copy(ROOT / "bot" / name, pkg / name)
    shutil.copytree(ROOT / "bot" / "danger", pkg / "danger", ignore=shutil.ignore_patterns("__pycache__"))
    _broken_copy(tmp_path, lambda data: data["danger"][0].__setitem__("pattern", "(broken"))
    shutil.move(tmp_path / "danger.yml", pkg / "danger.yml")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    run = subprocess.run([sys.executable, "-c", "import bot.danger"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode != 0
    first_id = yaml.safe_load(LEXICON_PATH.read_text(encoding="utf-8"))["danger"][0]["id"]
    assert "DangerLexiconError" in run.stderr and str(pkg / "danger.yml") in run.stderr and first_id in run.stderr


# ---------------------------------------------------------------- 6. held-out set

def test_heldout_figures(capsys: pytest.CaptureFixture[str]) -> None:
    figures = {}
    for flag in FLAGS:
        tp = fp = fn = 0
        for m in HELDOUT:
            got = getattr(detect(m["text"]), flag)
            tp += got and m[flag]
            fp += got and not m[flag]
            fn += (not got) and m[flag]
        figures[flag] = (tp / max(tp + fn, 1), tp / max(tp + fp, 1), tp, fp, fn)
        with capsys.disabled():
            print(f"\nheld-out {flag}: recall {figures[flag][0]:.3f}, precision {figures[flag][1]:.3f} "
                  f"(tp {tp}, fp {fp}, fn {fn}, {len(HELDOUT)} messages)")
    assert figures["danger"][0] == 1.0
    assert figures["distress"][0] == 1.0
    assert figures["danger"][1] >= 0.85


# ---------------------------------------------------------------- 7. three levels

LEVELS = [
    # certain: happening now, a weapon, at the door, locked in, followed now, a threat to kill now
    ("il est devant la porte avec un couteau", "certain"),
    ("il é devan la porte avec 1 couteau", "certain"),
    ("IL EST DEVANT LA PORTE AVEC UN COUTEAU !!!", "certain"),
    ("il va me tuer", "certain"),
    ("il v me tuer", "certain"),
    ("jsuis enfermee il a fermé a clé", "certain"),
    ("un homme me suit en ce moment", "certain"),
    ("il me frappe la maintenant", "certain"),
    ("ma soeur se fait frapper par son mari la maintenant", "certain"),
    ("j'entends le voisin taper sa femme", "certain"),
    ("il me menace de mort en ce moment", "certain"),
    ("il tape le bebe", "certain"),
    ("j'entends des coups chez la voisine", "certain"),
    ("non je suis pas en sécurité, il vient de rentrer", "certain"),
    ("je ne me sens pas en sécurité", "certain"),
    ("oui j'entends encore quelqu'un marcher là haut", "certain"),
    # possible: violence that goes on, threats, fear, someone else's violence told, recent violence
    ("ma sœur se fait frapper par son mari", "possible"),
    ("ma soeur se fait frapper par son mari", "possible"),
    ("ma seur se fait fraper par son mari", "possible"),
    ("mon voisin bat sa femme", "possible"),
    ("notre père cogne ma soeur", "possible"),
    ("mon mari me frappe tous les jours", "possible"),
    ("mon mari me frappe depuis 3 ans", "possible"),
    ("il me menace", "possible"),
    ("il m'a menacée de mort", "possible"),
    ("il va me tuer si je le quitte", "possible"),
    ("j'ai peur qu'il revienne demain", "possible"),
    ("jai peur de lui", "possible"),
    ("j'ai été agressée hier soir", "possible"),
    ("ma fille m'a raconté que son copain la frappe", "possible"),
    ("mon ex a frappé notre fils", "possible"),
    ("il sort de prison demain et j'ai peur", "possible"),
    ("il menace de prendre les enfants", "possible"),
    ("il ma dit que si je partais il me tuerait", "possible"),
    ("je crois que ma collègue est battue par son mari", "possible"),
    ("mon mari m'a encore frappée hier soir devant les enfants", "possible"),
    ("quand il a bu il devient violent avec moi", "possible"),
    ("c'est mon compagnon, il me fait peur", "possible"),
    ("on vient de rentrer, la porte est fracturée et tout est retourné", "possible"),
    ("je crois qu'on m'a cambriolé", "possible"),
    # none: past, negated, safe, not a threat, fiction, ordinary requests
    ("il m'a frappée il y a trois ans", None),
    ("j'ai été violée il y a dix ans", None),
    ("il ne me frappe plus", None),
    ("il me tape pas", None),
    ("je suis en sécurité chez ma soeur", None),
    ("il m'a menacée de porter plainte", None),
    ("j'ai peur de lui dire que je suis enceinte", None),
    ("dans le film il la tue", None),
    ("si un jour il me frappe je fais quoi", None),
    ("je voudrais des infos sur les violences conjugales", None),
    ("bonjour je cherche un avocat", None),
    ("j'ai peur de me tromper de formulaire", None),
    ("ce film me fait peur", None),
    ("j'ai été cambriolé il y a deux ans", None),
    ("je veux porter plainte pour la vitre cassée de ma voiture", None),
    ("il m'a menacée la semaine dernière mais il est parti chez sa mère et il ne revient pas", None),
]


@pytest.mark.parametrize(("text", "level"), LEVELS)
def test_three_levels(text: str, level: str | None) -> None:
    flags = detect(text)
    assert flags.danger_level == level, (text, flags)
    assert flags.danger == (level == "certain")
    _check_evidence(flags)


@pytest.mark.parametrize("text", [
    "ma sœur se fait frapper par son mari", "mon amie se fait battre par son copain",
    "ma fille se fait agresser", "le voisin frappe sa femme", "mon frère bat sa copine",
    "ma mère se fait insulter et frapper par mon beau-père", "il la frappe",
])
def test_third_person_reports_are_never_certain_without_now(text: str) -> None:
    """Never declare certain danger the person did not state: someone else's violence told
    without a present marker is asked about, not declared."""
    assert detect(text).danger_level == "possible", (text, detect(text))
    assert detect(text + " en ce moment").danger_level == "certain", text


@pytest.mark.parametrize(("past", "level"), [
    ("il y a trois ans", None), ("en 2015", None), ("quand j'étais petite", None),
    ("hier", "possible"), ("la semaine dernière", "possible"), ("tous les jours", "possible"),
    ("depuis des années", "possible"),
])
def test_time_leaves_a_level(past: str, level: str | None) -> None:
    """A distant past leaves no danger; a recent or habitual one leaves possible danger."""
    assert detect(f"il me frappe {past}" if "jours" in past or "depuis" in past
                  else f"il m'a frappée {past}").danger_level == level, past


def test_levels_of_the_heldout_set(capsys: pytest.CaptureFixture[str]) -> None:
    """Every held-out emergency is certain (recall 1.0); the possible ones are printed."""
    counts = {"certain": 0, "possible": 0, None: 0}
    for m in HELDOUT:
        level = detect(m["text"]).danger_level
        counts[level] += 1
        if m["danger"]:
            assert level == "certain", m["text"]
    with capsys.disabled():
        print(f"\nheld-out levels: {counts['certain']} certain, {counts['possible']} possible, "
              f"{counts[None]} none ({len(HELDOUT)} messages)")


# ---------------------------------------------------------------- 8. every problem of danger.yml at once

def test_every_problem_is_listed_with_line_and_suggestion(tmp_path: Path) -> None:
    text = LEXICON_PATH.read_text(encoding="utf-8")
    first = yaml.safe_load(text)["danger"][0]["id"]
    broken = (text.replace("    present: true\n", "    presnt: true\n", 1)  # a typo in a key
                  .replace("  - id: bare_plea\n", "  - id: bare_plea\n    needs_now: maybe\n", 1)
                  .replace("{notme}", "{notmee}", 1))
    path = tmp_path / "danger.yml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(DangerLexiconError) as err:
        load_lexicon(path)
    problems = err.value.problems
    assert len(problems) >= 3, problems
    lines = broken.splitlines()
    typo = next(p for p in problems if "presnt" in p.message)
    assert typo.suggestion == "present" and typo.entry == first
    assert lines[typo.line - 1].strip() == "presnt: true"
    assert any("needs_now" in p.message and p.entry == "bare_plea" and "maybe" in lines[p.line - 1] for p in problems)
    fragment = next(p for p in problems if "notmee" in p.message)
    assert fragment.suggestion == "notme" and "{notmee}" in lines[fragment.line - 1]
    assert all(str(path) in str(p) for p in problems)


def test_a_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "danger.yml"
    path.write_text("version: 1\ndanger:\n  - id: x\n    pattern: '\\bau secours\n", encoding="utf-8")
    with pytest.raises(DangerLexiconError) as err:
        load_lexicon(path)
    assert err.value.problems[0].line is not None and str(path) in str(err.value)


def test_a_caret_outside_whole_clause_is_refused(tmp_path: Path) -> None:
    """Patterns match at word starts, so ^ would never match: the loader says so."""
    text = LEXICON_PATH.read_text(encoding="utf-8").replace("    whole_clause: true\n", "", 1)
    text = text.replace("  - id: bare_plea\n    pattern: '", "  - id: bare_plea\n    pattern: '^", 1)
    path = tmp_path / "danger.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DangerLexiconError, match="whole_clause"):
        load_lexicon(path)


# ---------------------------------------------------------------- 9. the level in the understanding and the API

@pytest.mark.parametrize(("text", "level"), [
    ("il est devant la porte avec un couteau", "certain"),
    ("ma sœur se fait frapper par son mari", "possible"),
    ("on m'a volé mon scooter devant le lycée de Laon", None),
])
def test_understanding_carries_the_level(understander, client, text: str, level: str | None) -> None:
    u = understander.understand(text)
    assert u.danger_level == level and u.danger == (level == "certain")
    body = client.post("/api/understand", json={"text": text}).json()
    assert body["danger_level"] == level and body["danger"] is (level == "certain")


def test_a_failure_is_certain_danger(understander, monkeypatch) -> None:
    import bot.understand as mod

    def boom(text):
        raise RuntimeError("lexicon broken")
    monkeypatch.setattr(mod, "detect", boom)
    u = understander.understand("ma sœur se fait frapper par son mari")
    assert u.failed and u.danger and u.danger_level == "certain"


def test_danger_and_level_always_agree() -> None:
    from bot.understand import Understanding
    assert Understanding(danger=True).danger_level == "certain"
    assert Understanding(danger_level="certain").danger is True
    assert Understanding(danger_level="possible").danger is False
    assert Understanding().as_dict()["danger_level"] is None
    with pytest.raises(ValueError):
        Understanding(danger_level="maybe")
