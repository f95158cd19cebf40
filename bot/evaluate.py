"""`orientation nlu evaluate`: figures on the held-out file, never used for training."""
from __future__ import annotations

from collections import Counter

from .nludata import read_heldout

__all__ = ["evaluate", "report"]


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


def evaluate(understander, messages: list[dict] | None = None) -> dict:
    messages = messages if messages is not None else read_heldout()
    codes = sorted(understander.directory.vocabulary.situations)
    tp, fp, fn = Counter(), Counter(), Counter()
    confusion: Counter = Counter()
    correct = danger_tp = danger_fp = danger_fn = distress_tp = distress_fn = distress_fp = commune_ok = 0
    role_ok = role_n = 0
    possible = possible_on_danger = 0  # danger asked about, not declared
    for m in messages:
        u = understander.understand(m["text"])
        got = u.situation
        gold = m["situation"]
        if got == gold:
            correct += 1
            tp[gold] += 1
        else:
            fn[gold] += 1
            if got:
                fp[got] += 1
            confusion[(gold, got or "—")] += 1
        danger_tp += u.danger and m["danger"]
        danger_fp += u.danger and not m["danger"]
        danger_fn += (not u.danger) and m["danger"]
        possible += u.danger_level == "possible"
        possible_on_danger += u.danger_level == "possible" and m["danger"]
        distress_tp += u.distress and m["distress"]
        distress_fp += u.distress and not m["distress"]
        distress_fn += (not u.distress) and m["distress"]
        commune_ok += (u.commune.insee if u.commune else None) == m.get("commune")
        if m.get("role"):
            role_n += 1
            role_ok += u.role == m["role"]
    per = {}
    for c in codes:
        p, r = _ratio(tp[c], tp[c] + fp[c]), _ratio(tp[c], tp[c] + fn[c])
        f1 = 2 * p * r / (p + r) if p and r else 0.0
        per[c] = {"precision": p, "recall": r, "f1": f1, "support": tp[c] + fn[c]}
    n = len(messages)
    return {
        "messages": n,
        "per_situation": per,
        "top1_accuracy": correct / n,
        "danger_recall": _ratio(danger_tp, danger_tp + danger_fn),
        "danger_precision": _ratio(danger_tp, danger_tp + danger_fp),
        "danger_possible": possible,
        "danger_possible_on_danger": possible_on_danger,
        "distress_recall": _ratio(distress_tp, distress_tp + distress_fn),
        "distress_precision": _ratio(distress_tp, distress_tp + distress_fp),
        "commune_accuracy": commune_ok / n,
        "role_accuracy": _ratio(role_ok, role_n),
        "confusion": [{"expected": a, "got": b, "count": k} for (a, b), k in confusion.most_common()],
    }


def report(figures: dict) -> str:
    def f(x):
        return "  n/a" if x is None else f"{x:5.3f}"

    lines = [f"held-out messages: {figures['messages']}", "",
             f"{'situation':28} precision recall    F1  support"]
    for code, v in figures["per_situation"].items():
        lines.append(f"{code:28} {f(v['precision'])}   {f(v['recall'])} {f(v['f1'])}  {v['support']:5}")
    lines += ["",
              f"top-1 situation accuracy   {f(figures['top1_accuracy'])}",
              f"danger recall              {f(figures['danger_recall'])}",
              f"danger precision           {f(figures['danger_precision'])}",
              f"danger possible (asked)    {figures['danger_possible']:5} messages "
              f"({figures['danger_possible_on_danger']} of them labelled danger)",
              f"distress recall            {f(figures['distress_recall'])}",
              f"distress precision         {f(figures['distress_precision'])}",
              f"commune accuracy           {f(figures['commune_accuracy'])}",
              f"role accuracy              {f(figures['role_accuracy'])}",
              "", "confusions (expected -> got):"]
    for c in figures["confusion"]:
        lines.append(f"  {c['count']:3}  {c['expected']} -> {c['got']}")
    return "\n".join(lines)
