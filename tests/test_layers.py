"""Dependencies point one way: directory <- rules <- bot <- web."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ["directory", "rules", "bot", "web"]


@pytest.mark.parametrize("package", LAYERS)
def test_no_upward_import(package):
    forbidden = set(LAYERS[LAYERS.index(package) + 1:])
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.relative_to(ROOT)} imports {name}"


SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b\s+[\w*]|\.(execute|executescript|query)\(")


@pytest.mark.parametrize("package", ["rules", "web"])  # bot/rasa_export.py still reads commune_alias itself
def test_sql_only_in_the_directory(package):
    """SQL stays behind the directory's functions: the other layers call them."""
    for path in (ROOT / package).rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            assert not SQL.search(line), f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
