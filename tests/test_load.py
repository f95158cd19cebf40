"""A short version of the load test of `make bench` (bench/load.py): 50 concurrent
realistic conversations plus searches against the real server, zero errors and no
conversation lost. Figures are printed by `make bench`, never asserted here."""
from __future__ import annotations

import shutil
import sys

from conftest import ROOT, serve

sys.path.insert(0, str(ROOT / "bench"))

from load import run_load  # noqa: E402


def test_fifty_conversations_and_searches_without_an_error(db_path, model_dir, tmp_path):
    db = tmp_path / "orientation.db"
    shutil.copy(db_path, db)
    # Every client of the test comes from 127.0.0.1: lift the per-address budget of new conversations.
    with serve(db, model_dir, tmp_path / "server.log", ORIENTATION_NEW_CHATS_PER_CLIENT="1000000") as base:
        result = run_load(base, talkers=50, searchers=5, seconds=8)
    assert result.conversations >= 50 and result.searches >= 20, result.line()
    assert result.errors == {} and result.lost == 0, result.line()
