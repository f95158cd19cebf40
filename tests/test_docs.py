"""The README cannot drift: every command, setting, situation code and entry to re-verify is in it."""
from __future__ import annotations

from pathlib import Path

import click
import pytest

from web.cli import cli
from web.settings import SETTINGS_HELP

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix=("orientation",)):
    for name, cmd in group.commands.items():
        path = (*prefix, name)
        if isinstance(cmd, click.Group):
            yield from commands(cmd, path)
        else:
            yield " ".join(path)


@pytest.mark.parametrize("command", sorted(commands(cli)))
def test_every_command_is_documented(command):
    assert f"`{command}" in README, command


@pytest.mark.parametrize("env,default", sorted((v[0], v[1]) for v in SETTINGS_HELP.values()))
def test_every_setting_is_documented_with_its_default(env, default):
    # one row of the settings table: | `ORIENTATION_…` | `default` | what |
    assert f"| `{env}` | `{default}` |" in README, env


def test_every_entry_to_reverify_is_listed(directory):
    missing = [s.id for s in directory.snapshot.services.values() if s.a_verifier and f"`{s.id}`" not in README]
    assert missing == []
