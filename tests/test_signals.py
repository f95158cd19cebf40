"""Verification campaigns: a watch file's alerts as signals, signals closed by verifying,
editing or archiving, the campaign per territory, unreachable entries in the queue, and
signals never shown to the public."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from directory import Directory, LoadError
from directory.editing import UNREACHABLE, archive_service, save_service, service_entry, verification_queue, \
    verify_service
from directory.hsds import export
from directory.signals import WIDE, campaign, close_signal, open_signals
from directory.watch import load_watch, read_watch

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "data" / "veille-fixture.md"
WATCH = HERE.parent.parent / "shared" / "sources" / "veille-aisne-2026-12.md"


@pytest.fixture
def wdir(db_path, tmp_path) -> Directory:
    """A writable copy of the session directory."""
    path = tmp_path / "w.db"
    shutil.copy(db_path, path)
    return Directory.open(path)


def test_fixture_watch_becomes_signals(wdir):
    found = {(w.ref.split(":")[1], w.subject): w for w in read_watch(FIXTURE, set(wdir.snapshot.services),
                                                                     {"police municipale de chauny": "police-municipale-chauny"})}
    alert = found[("correspondance-1", "reseau-laon-chauny-la-fere")]
    assert alert.what.startswith("Alerte : l'association a fermé.") and alert.source_url == "https://exemple.fr/source-2"
    assert alert.source_date == "2025"
    both = [w for (ref, _), w in found.items() if ref == "correspondance-2"]
    assert {w.service_id for w in both} == {"utas-laon", "utas-la-fere"}
    assert "[S1]" in both[0].what and "[S3]" in both[0].what  # a range of sources is listed whole
    new = found[("X1", "Accueil de test de Soissons")]
    assert new.service_id is None and new.place == "Soissons" and new.confidence == "M"
    assert not any(ref == "X2" for ref, _ in found)  # "déjà présente": no new-service signal
    # a new service that staff created since is linked to its entry
    assert found[("correspondance-3", "Police municipale de Chauny")].service_id == "police-municipale-chauny"


def test_load_is_idempotent_and_places_new_services(wdir):
    first = load_watch(wdir, FIXTURE)
    assert first["added"] == first["signals"] == 5
    assert load_watch(wdir, FIXTURE)["added"] == 0
    unlisted = [s for s in open_signals(wdir) if s["service_id"] is None]
    assert [(s["subject"], s["territory_id"]) for s in unlisted] == [("Accueil de test de Soissons", "commune-02722")]


def test_a_watch_naming_an_unknown_entry_is_refused_and_writes_nothing(wdir, tmp_path):
    bad = tmp_path / "veille.md"
    bad.write_text(FIXTURE.read_text(encoding="utf-8").replace("`utas-laon`", "`utas-lion`"), encoding="utf-8")
    with pytest.raises(LoadError) as err:
        load_watch(wdir, bad)
    assert "aucune fiche « utas-lion »" in err.value.message
    assert open_signals(wdir) == []
    with pytest.raises(LoadError, match="tableau des sources"):
        read_watch(HERE / "data" / "README.md", set())


@pytest.mark.parametrize("close,how", [
    (lambda d, s: verify_service(d, s, "claire"), "verifiee"),
    (lambda d, s: save_service(d, service_entry(d.service(s)), version=d.service(s).version, username="claire"),
     "modifiee"),
    (lambda d, s: archive_service(d, s, "claire"), "archivee"),
])
def test_verifying_editing_or_archiving_closes_the_signals(wdir, close, how):
    load_watch(wdir, FIXTURE)
    assert len(open_signals(wdir, "reseau-laon-chauny-la-fere")) == 1
    close(wdir, "reseau-laon-chauny-la-fere")
    assert open_signals(wdir, "reseau-laon-chauny-la-fere") == []
    row = wdir.db.execute("SELECT closed_how, closed_by FROM signal WHERE service_id = ?",
                          ["reseau-laon-chauny-la-fere"]).fetchone()
    assert tuple(row) == (how, "claire")
    assert len(open_signals(wdir, "utas-laon")) == 1  # the others stay open


def test_a_signal_about_no_entry_is_closed_by_hand(wdir):
    load_watch(wdir, FIXTURE)
    sid = next(s["id"] for s in open_signals(wdir) if s["service_id"] is None)
    close_signal(wdir, sid, "claire")
    assert all(s["id"] != sid for s in open_signals(wdir))
    with pytest.raises(Exception, match="déjà traité"):
        close_signal(wdir, sid, "claire")


def test_campaign_per_territory_by_age_with_signals(wdir):
    load_watch(wdir, FIXTURE)
    laon = campaign(wdir, "arr-022", months=6)
    ids = [i.service.id for i in laon.items]
    flagged = [i.service.id for i in laon.items if i.flagged]
    assert set(flagged) == {"reseau-laon-chauny-la-fere", "utas-laon", "utas-la-fere", "police-municipale-chauny"}
    assert ids[:len(flagged)] == flagged  # flagged entries first
    soissons = campaign(wdir, "arr-024", months=6)
    assert "reseau-laon-chauny-la-fere" not in [i.service.id for i in soissons.items]
    assert [s["subject"] for s in soissons.unlisted] == ["Accueil de test de Soissons"]
    wide = campaign(wdir, WIDE, months=6)
    assert "telephone-grave-danger" in [i.service.id for i in wide.items]  # département-wide, unreachable
    counts = {tid: n for tid, _, n in laon.territories}
    assert counts["arr-022"] == len(laon.items) and counts["arr-024"] == len(soissons.items) + 1
    # within the unflagged, unreachable ones come first, then by age of verification
    rest = [i for i in laon.items if not i.flagged]
    keys = [(i.reachable, i.service.verified_on or "") for i in rest]
    assert keys == sorted(keys)
    with pytest.raises(Exception, match="inconnu"):
        campaign(wdir, "arr-999")


def test_unreachable_entries_are_in_the_verification_queue(wdir):
    queue = {i.service.id: i for i in verification_queue(wdir, months=1200)}  # nothing is stale
    assert queue["telephone-grave-danger"].reason == UNREACHABLE
    assert "violences-femmes-info-3919" not in queue


def test_signals_are_never_shown_to_the_public(wdir, model_dir):
    from web.app import create_app
    from web.settings import Settings

    load_watch(wdir, FIXTURE)
    secret = "l'association a fermé"
    app = create_app(Settings.from_env(db=wdir.db.conn.execute("PRAGMA database_list").fetchone()[2],
                                       model_dir=model_dir))
    with TestClient(app) as c:
        outputs = [c.get("/api/services/reseau-laon-chauny-la-fere").text,
                   c.get("/api/services", params={"commune": "02173", "per_page": 500}).text,
                   c.get("/pro", params={"commune": "Chauny", "situation": "violences_conjugales"}).text,
                   c.post("/api/orientation", json={"situation": "violences_conjugales", "commune": "02173"}).text,
                   c.get("/hsds/services", params={"per_page": 500}).text]
    outputs.append(str(export(wdir)))
    assert all(secret not in text and "exemple.fr/source-2" not in text for text in outputs)


def test_staff_see_and_close_signals_on_the_page(wdir, model_dir):
    from directory.staff import add_user, session_user
    from web.app import create_app
    from web.settings import Settings

    load_watch(wdir, FIXTURE)
    add_user(wdir.db, "claire", "un mot de passe assez long", "editeur")
    app = create_app(Settings.from_env(db=wdir.db.conn.execute("PRAGMA database_list").fetchone()[2],
                                       model_dir=model_dir))
    c = TestClient(app, base_url="https://testserver")
    c.post("/admin/login", data={"username": "claire", "password": "un mot de passe assez long"})
    csrf = session_user(app.state.directory.db, c.cookies.get("__Host-session")).csrf
    page = c.get("/admin/verification", params={"territoire": "arr-022"}).text
    assert "Alerte : l&#39;association a fermé" in page and "https://exemple.fr/source-2" in page
    assert "Accueil de test de Soissons" not in page
    assert "Injoignable" in c.get("/admin/verification", params={"territoire": WIDE}).text
    page = c.get("/admin/verification", params={"territoire": "arr-024"}).text
    assert "Accueil de test de Soissons" in page and "Services signalés, absents de l'annuaire" in page
    assert "Alerte" in c.get("/admin/services/reseau-laon-chauny-la-fere").text
    r = c.post("/admin/services/reseau-laon-chauny-la-fere/verify", follow_redirects=False,
               data={"csrf": csrf, "next": "/admin/verification?territoire=arr-022"})
    assert r.headers["location"] == "/admin/verification?territoire=arr-022&ok=verified"
    assert "Alerte : l&#39;association a fermé" not in c.get(r.headers["location"]).text
    unlisted = next(s["id"] for s in open_signals(app.state.directory) if s["service_id"] is None)
    r = c.post(f"/admin/signals/{unlisted}/close", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and "ok=signal_closed" in r.headers["location"]
    assert c.post(f"/admin/signals/{unlisted}/close", data={"csrf": csrf}).status_code == 404


@pytest.mark.skipif(not WATCH.exists(), reason=f"watch file absent: {WATCH}")
def test_the_real_watch_flags_the_closed_cidff_entries(wdir):
    counts = load_watch(wdir, WATCH)
    assert counts["added"] > 20
    by_entry = {s["service_id"]: s for s in open_signals(wdir) if s["service_id"]}
    for sid in ("reseau-laon-chauny-la-fere", "soutien-psy-cidff-aisne", "ordonnance-de-protection"):
        assert "CIDFF" in by_entry[sid]["what"] or "Même alerte" in by_entry[sid]["what"]
        assert by_entry[sid]["source_url"].startswith("https://france3-regions.francetvinfo.fr/")
        assert by_entry[sid]["source_date"] == "2022"
    new = {s["subject"] for s in open_signals(wdir) if s["service_id"] is None}
    assert any(n.startswith("Espace Gisèle Halimi") for n in new)
    assert any("antenne de Guise" in n for n in new) and any("antenne de Soissons" in n for n in new)
    assert any(n.startswith("Espaces France Services de Thiérache") for n in new)
    # the watch's municipal police of Chauny is the entry made from its source
    assert "police-municipale-chauny" in by_entry
