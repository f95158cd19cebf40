"""Rule evaluation time per request (target: under 1 ms)."""
from __future__ import annotations

import random

from rules import Orienter, Request

from _util import summary, timings


def run(directory) -> None:
    orienter = Orienter(directory)
    rnd = random.Random(3)
    v = directory.vocabulary
    communes = list(directory.snapshot.communes.by_insee)
    reqs = [Request(situation=rnd.choice([None, *v.situations]), commune=rnd.choice([None, *communes]),
                    danger=rnd.random() < 0.2, distress=rnd.random() < 0.1,
                    role=rnd.choice([None, "victime", "proche", "professionnel"]),
                    age_group=rnd.choice([None, "mineur", "adulte", "senior"]),
                    needs=frozenset(rnd.sample(list(v.needs), rnd.randint(0, 2))))
            for _ in range(2000)]
    timings(lambda r: orienter.evaluate(r), [(r,) for r in reqs[:200]])
    print("rules evaluate (random requests): " + summary(timings(lambda r: orienter.evaluate(r), [(r,) for r in reqs])))
    timings(lambda r: orienter.orient(r), [(r,) for r in reqs[:200]])
    print("rules orient, contacts built (with open_now): "
          + summary(timings(lambda r: orienter.orient(r), [(r,) for r in reqs])))
