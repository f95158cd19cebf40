"""The shared vocabulary (data/taxonomy.yaml): situation codes, profiles, needs, categories."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .yamlio import load_yaml

__all__ = ["DATA_DIR", "Vocabulary", "load_vocabulary"]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class Vocabulary:
    situations: dict  # code -> {"label", "description", "examples"}
    roles: dict
    age_groups: dict
    genders: dict  # code -> label; a service listing none receives everyone
    profiles: dict
    needs: dict
    categories: dict
    territory_kinds: dict  # kind -> rank (1 = most local)
    # roles given only the services that list them (a person who says they are violent
    # is never sent to a service for victims)
    exclusive_roles: frozenset = frozenset()

    def situation_label(self, code: str) -> str:
        return self.situations[code]["label"]


@lru_cache(maxsize=8)
def load_vocabulary(data_dir: Path = DATA_DIR) -> Vocabulary:
    raw = load_yaml(Path(data_dir) / "taxonomy.yaml")
    unknown = set(raw.get("exclusive_roles") or ()) - set(raw["roles"])
    if unknown:
        raise ValueError(f"taxonomy.yaml : exclusive_roles nomme un rôle inconnu : {', '.join(sorted(unknown))}")
    return Vocabulary(
        situations={s["code"]: dict(s) for s in raw["situations"]},
        roles=dict(raw["roles"]),
        age_groups=dict(raw["age_groups"]),
        genders=dict(raw.get("genders") or {}),
        profiles=dict(raw["profiles"]),
        needs=dict(raw["needs"]),
        categories=dict(raw["categories"]),
        territory_kinds=dict(raw["territory_kinds"]),
        exclusive_roles=frozenset(raw.get("exclusive_roles") or ()),
    )
