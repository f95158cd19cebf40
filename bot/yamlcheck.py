"""Checking the bot's reviewable YAML files (danger.yml, cues.yml...) the way `rules/`
checks its rule files: every problem is collected, with the file, the line and, when a
close known value exists, a suggestion, before anything fails."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from directory.yamlio import YamlSyntaxError, line_of, load_yaml
from rules.errors import suggest

__all__ = ["Problem", "YamlFileError", "Checker", "load_checked", "suggest"]


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str
    entry: str | None = None  # the id of the entry concerned, if any
    suggestion: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        entry = f" ('{self.entry}')" if self.entry else ""
        hint = f" Did you mean '{self.suggestion}'?" if self.suggestion else ""
        return f"{where}{entry}: {self.message}.{hint}"


class YamlFileError(ValueError):
    """A reviewable YAML file holds problems; all of them are listed."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(f"{len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass
class Checker:
    """Collects the problems of one file; `entry` names the entry being checked."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    entry: str | None = None

    def add(self, node: Any, message: str, key: str | None = None, *, suggestion: str | None = None) -> None:
        self.problems.append(Problem(str(self.path), line_of(node, key), message, self.entry, suggestion))

    def keys(self, node: dict, allowed: Iterable[str], what: str) -> None:
        allowed = tuple(allowed)
        for key in node:
            if key not in allowed:
                self.add(node, f"unknown key '{key}' in {what} (allowed: {', '.join(allowed)})", key,
                         suggestion=suggest(key, allowed))

    def regex(self, node: Any, key: str | None, source: str, *, compile_as: str | None = None) -> re.Pattern[str] | None:
        """The compiled regex, or None after adding a problem."""
        try:
            return re.compile(source if compile_as is None else compile_as)
        except (re.error, RecursionError, OverflowError) as exc:
            self.add(node, f"invalid regex in '{key}': {exc}", key)
            return None

    def boolean(self, node: dict, key: str, default: bool = False) -> bool:
        raw = node.get(key, default)
        if not isinstance(raw, bool):
            self.add(node, f"'{key}' must be true or false, not {raw!r}", key)
            return default
        return raw

    def choice(self, node: dict, key: str, allowed: Iterable[str], default: str | None = None) -> str | None:
        allowed = tuple(allowed)
        raw = node.get(key, default)
        if raw not in allowed:
            self.add(node, f"'{key}' must be one of {', '.join(allowed)}, not {raw!r}", key,
                     suggestion=suggest(raw, allowed))
            return default
        return raw

    def raise_if_any(self, error: type[YamlFileError] = YamlFileError) -> None:
        if self.problems:
            raise error(self.problems)


def load_checked(path: Path, checker: Checker) -> Any:
    """The YAML document (mappings and lists that know their lines), or None after adding
    a problem when the file cannot be read."""
    try:
        return load_yaml(path)
    except YamlSyntaxError as exc:
        checker.problems.append(Problem(str(path), exc.line, exc.message))
        return None
