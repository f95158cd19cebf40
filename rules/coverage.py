"""Coverage: for each situation and territory, how many local contacts the rules give,
so staff see where the network is thin."""
from __future__ import annotations

from .engine import evaluate
from .model import Request

__all__ = ["coverage"]


def coverage(orienter, kind: str = "arrondissement") -> dict:
    """Matrix situation x territory of `kind`: the fewest local contacts any commune of the
    territory gets ("local": below the national level; "proximite": below the département).
    A gap is a situation with no local contact at all; "thin" has only département-wide ones."""
    snap = orienter.directory.snapshot
    ruleset = orienter.ruleset
    territories = sorted((t for t in snap.territories.values() if t.kind == kind), key=lambda t: t.id)
    members: dict[str, list[str]] = {t.id: [] for t in territories}
    for insee, tids in snap.commune_territories.items():
        for tid in tids:
            if tid in members:
                members[tid].append(insee)
    matrix: dict[str, dict[str, dict]] = {}
    gaps, thin = [], []
    for situation in orienter.directory.vocabulary.situations:
        row = {}
        for t in territories:
            local_counts, near_counts = [], []
            for insee in members[t.id]:
                o = evaluate(ruleset, snap, Request(situation=situation, commune=insee))
                scopes = [snap.covers(snap.services[r.service_id], insee) for r in o.recommendations]
                local_counts.append(sum(1 for sc in scopes if sc and sc.kind != "national"))
                near_counts.append(sum(1 for sc in scopes if sc and sc.kind not in ("national", "departement")))
            row[t.id] = {"local": min(local_counts, default=0), "proximite": min(near_counts, default=0)}
            if row[t.id]["local"] == 0:
                gaps.append((situation, t.id))
            elif row[t.id]["proximite"] == 0:
                thin.append((situation, t.id))
        matrix[situation] = row
    return {"territories": [t.as_dict() for t in territories], "matrix": matrix, "gaps": gaps, "thin": thin}
