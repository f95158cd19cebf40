"""Errors of the rules layer, each with a code, the file, the line and a suggestion."""
from __future__ import annotations

import difflib
from dataclasses import dataclass

__all__ = ["RuleProblem", "RulesError", "suggest"]


def suggest(value, allowed) -> str | None:
    close = difflib.get_close_matches(str(value), [str(a) for a in allowed], n=1, cutoff=0.6)
    return close[0] if close else None


@dataclass(frozen=True)
class RuleProblem:
    code: str
    file: str
    line: int | None
    message: str
    rule: str | None = None
    suggestion: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        rule = f" (règle « {self.rule} »)" if self.rule else ""
        hint = f" Vouliez-vous dire « {self.suggestion} » ?" if self.suggestion else ""
        return f"{where}{rule} : {self.message}{hint}"


class RulesError(Exception):
    """The rule files hold problems; all of them are listed."""

    code = "invalid_rules"

    def __init__(self, problems: list[RuleProblem]):
        self.problems = problems
        self.message = f"{len(problems)} problème(s) dans les règles :\n" + "\n".join(f"  - {p}" for p in problems)
        super().__init__(self.message)
