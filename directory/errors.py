"""Errors of the directory layer: a code a program can test, a French message a person can act on."""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DirectoryError", "Problem", "LoadError", "NotFound"]


class DirectoryError(Exception):
    """Base error of the directory package; `message` is French and shown to people."""

    code = "directory_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class NotFound(DirectoryError):
    code = "not_found"


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a data file, located precisely enough to fix it."""

    code: str
    file: str
    entry: str | None
    field: str | None
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        parts = [where]
        if self.entry:
            parts.append(f"entrée « {self.entry} »")
        if self.field:
            parts.append(f"champ « {self.field} »")
        return " — ".join(parts) + f" : {self.message}"


class LoadError(DirectoryError):
    """The data files hold errors; nothing was written."""

    code = "invalid_data"

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{len(problems)} erreur(s) dans les données, rien n'a été chargé :\n{lines}")
