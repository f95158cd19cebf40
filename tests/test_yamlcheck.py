"""The bot's reviewable YAML files report every problem at once, with the file, the line
and a suggestion (bot/yamlcheck.py), as the rule files do."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.cues import CUES_PATH, CuesError, load_cues


def test_shipped_cues_are_valid() -> None:
    cues = load_cues()
    assert "partner" in cues and all(hasattr(rx, "search") for rx in cues.values())


def test_every_cue_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "cues.yml"
    path.write_text(
        "cues:\n"
        "  partner: '\\bmon mari\\b'\n"
        "  family: '\\b(?:mon pere'\n"          # line 3: unbalanced parenthesis
        "  sexual: '\\bViol\\b'\n"               # line 4: upper case never matches
        "  money: ''\n"                          # line 5: empty
        "cuse: {}\n",                            # line 6: a typo for cues
        encoding="utf-8")
    with pytest.raises(CuesError) as err:
        load_cues(path)
    problems = {p.entry: p for p in err.value.problems if p.entry}
    assert problems["family"].line == 3 and "invalid regex" in problems["family"].message
    assert problems["sexual"].line == 4 and "upper-case" in problems["sexual"].message
    assert problems["money"].line == 5
    typo = next(p for p in err.value.problems if "cuse" in p.message)
    assert typo.line == 6 and typo.suggestion == "cues"
    assert all(str(path) in str(p) for p in err.value.problems)
    assert len(err.value.problems) == 4


def test_a_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "cues.yml"
    path.write_text("cues:\n  partner: '\\bmon mari\n", encoding="utf-8")
    with pytest.raises(CuesError) as err:
        load_cues(path)
    assert err.value.problems[0].line and str(path) in str(err.value)


def test_the_shipped_file_is_the_one_read() -> None:
    assert CUES_PATH.name == "cues.yml" and CUES_PATH.exists()
