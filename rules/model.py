"""Rule objects: built only through the loader, so an invalid rule cannot exist."""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Condition", "Output", "Rule", "Request", "Recommendation", "Step", "Orientation"]


@dataclass(frozen=True)
class Condition:
    situation: frozenset[str] | None = None  # None: any situation, including unknown
    situation_known: bool | None = None
    danger: bool | None = None
    distress: bool | None = None
    role: frozenset[str] | None = None
    age_group: frozenset[str] | None = None
    profile: frozenset[str] | None = None  # any of
    needs: frozenset[str] | None = None  # any of
    territory: frozenset[str] | None = None  # the person's commune in any of them
    commune_known: bool | None = None


@dataclass(frozen=True)
class Output:
    """One contact to propose (a named service, or a selection of local services), or one step.

    A step (`step` set) is something the person can do that is not a contact of its own: a
    measure (téléphone grave danger, ordonnance de protection) or a unit reached through others.
    `service` is then the reachable service through which one asks for it, if a source says
    which; `about` the directory entry the step speaks of (the step is shown only while that
    entry is active, visible and covers the person's commune)."""

    why: str
    service: str | None = None
    step: str | None = None
    about: str | None = None
    category: frozenset[str] | None = None  # select: services of these categories...
    serving_situation: bool = False  # ...that serve the person's situation...
    local_only: bool = True  # ...and cover the person's commune below the national level


@dataclass(frozen=True)
class Rule:
    id: str
    file: str
    line: int
    priority: int
    when: Condition
    outputs: tuple[Output, ...]
    description: str | None = None
    order: int = 0
    show: str = "contacts"  # "contacts", or "if_danger": shown once under the plan, "En cas de danger"


@dataclass(frozen=True)
class Request:
    situation: str | None = None
    commune: str | None = None  # INSEE code
    danger: bool = False
    distress: bool = False
    role: str | None = None
    age_group: str | None = None
    profile: frozenset[str] = field(default_factory=frozenset)
    needs: frozenset[str] = field(default_factory=frozenset)
    gender: str | None = None  # of the person concerned: "homme" never gets a service for women only


@dataclass(frozen=True)
class Recommendation:
    service_id: str
    why: str
    rule: str
    priority: int
    show: str = "contacts"  # or "if_danger"


@dataclass(frozen=True)
class Step:
    """Something the person can do: a short French text (no digits), and the reachable
    service through which to do it, if any."""

    text: str
    service: str | None
    about: str | None
    rule: str
    priority: int


@dataclass(frozen=True)
class Orientation:
    recommendations: tuple[Recommendation, ...]  # the contacts, in the rules' order
    rules: tuple[str, ...]
    commune: str | None
    territories: tuple[str, ...]
    if_danger: tuple[Recommendation, ...] = ()  # "En cas de danger", only when danger is false
    steps: tuple[Step, ...] = ()
