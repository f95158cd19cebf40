"""Commune + situation search latency on the real data and on 20,000 generated services."""
from __future__ import annotations

import random
import tempfile
from pathlib import Path

from directory import DATA_DIR, Directory, connect, load, write_transaction
from directory.stemming import stems_of

from _util import summary, timings

CHIEF_TOWNS = ["02168", "02408", "02691", "02722", "02381", "02173", "02361", "02304"]


def queries(directory, n=400, seed=7):
    rnd = random.Random(seed)
    situations = list(directory.vocabulary.situations)
    communes = list(directory.snapshot.communes.by_insee)
    return [(rnd.choice(communes + CHIEF_TOWNS * 20), rnd.choice(situations)) for _ in range(n)]


def search(directory, insee, situation):
    directory.search(commune=insee, situation=situation, per_page=50)


def generate(db, n: int, seed: int = 11) -> None:
    """Add n synthetic services spread over every kind of territory."""
    rnd = random.Random(seed)
    territories = [r[0] for r in db.execute("SELECT id FROM territory WHERE kind != 'national'")]
    situations = [r[0] for r in db.execute("SELECT code FROM taxonomy_term WHERE taxonomy = 'situation'")]
    words = "accueil écoute victimes violences aide juridique soutien hébergement famille enfants plainte".split()
    services, areas, attrs = [], [], []
    for i in range(n):
        sid = f"synthetique-{i}"
        text = " ".join(rnd.choice(words) for _ in range(12))
        services.append({"id": sid, "name": f"Service {i}", "description": text, "category": "aide_victimes",
                         "verified_on": "2026-11-27", "source_id": "staff", "stems": stems_of(text)})
        areas.append({"service_id": sid, "territory_id": rnd.choice(territories)})
        attrs += [{"service_id": sid, "taxonomy_term_id": f"situation:{s}"} for s in rnd.sample(situations, 3)]
    with write_transaction(db):
        db["service"].insert_all(services, batch_size=2000)
        db["service_area"].insert_all(areas, batch_size=5000)
        db["attribute"].insert_all(attrs, batch_size=5000)
    db.execute("ANALYZE")  # as after any bulk import


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        db = connect(path)
        load(db, DATA_DIR)
        d = Directory(db)
        qs = queries(d)
        timings(lambda i, s: search(d, i, s), qs[:50])  # warm-up
        print(f"search commune+situation, real data ({d.db['service'].count} services): "
              + summary(timings(lambda i, s: search(d, i, s), qs, repeat=3)))
        generate(db, 20000)
        d.invalidate()
        timings(lambda i, s: search(d, i, s), qs[:50])
        print(f"search commune+situation, {d.db['service'].count} services: "
              + summary(timings(lambda i, s: search(d, i, s), qs, repeat=3)))
