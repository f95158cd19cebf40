"""Staff changes at the library level: validation, conflicts, audit in the same
transaction, closures, reports, accounts. (The web side is in test_admin.py.)"""
from __future__ import annotations

import shutil
from datetime import date, datetime

import pytest

from directory import Directory, connect
from directory.editing import (Conflict, EditError, add_closure, archive_service, audit_of, report_error,
                               save_service, service_entry, verification_queue, verify_service)
from directory.hours import PARIS
from directory.staff import (StaffError, add_user, authenticate, close_session, disable_user, open_session,
                             session_user, set_password)


@pytest.fixture
def wdir(db_path, tmp_path):
    """A writable copy of the session directory."""
    path = tmp_path / "w.db"
    shutil.copy(db_path, path)
    return Directory.open(path)


def test_edit_phone_is_audited_and_visible_at_once(wdir):
    s = wdir.service("reseau-soissonnais")
    entry = service_entry(s)
    entry["phones"] = [{"number": "03 23 00 00 00", "type": "voice"}]
    saved = save_service(wdir, entry, version=s.version, username="alice")
    assert saved.voice.number == "0323000000" and saved.version == s.version + 1
    assert wdir.service("reseau-soissonnais").voice.number == "0323000000"
    hits, _ = wdir.search(commune="02722", category="reseau_victimes")
    assert hits[0].service.voice.number == "0323000000"
    log = audit_of(wdir, "reseau-soissonnais")
    assert [(r["username"], r["field"]) for r in log] == [("alice", "phones")]
    assert "0323556633" in log[0]["before"] and "0323000000" in log[0]["after"]
    assert datetime.fromisoformat(log[0]["at"])


def test_invalid_input_changes_nothing(wdir):
    s = wdir.service("reseau-soissonnais")
    entry = service_entry(s)
    entry["phones"] = [{"number": "12", "type": "voice"}]
    entry["hours"] = "lundi 9h"
    entry["area"] = ["nulle-part"]
    with pytest.raises(EditError) as err:
        save_service(wdir, entry, version=s.version, username="alice")
    assert {"phones", "hours", "area"} <= set(err.value.by_field())
    assert wdir.service("reseau-soissonnais") == s
    assert audit_of(wdir, "reseau-soissonnais") == []


def test_concurrent_edit_is_refused_with_what_changed(wdir):
    s = wdir.service("utas-laon")
    first, second = service_entry(s), service_entry(s)
    first["name"] = "UTAS de Laon (nouveau nom)"
    save_service(wdir, first, version=s.version, username="alice")
    second["description"] = "Autre texte"
    with pytest.raises(Conflict) as err:
        save_service(wdir, second, version=s.version, username="bob")
    assert "name" in [f for f, _, _ in err.value.changes]
    assert wdir.service("utas-laon").description == s.description


def test_create_and_archive(wdir):
    entry = service_entry(wdir.service("reseau-soissonnais"))
    entry.update(id="nouveau-service", name="Nouveau service", source="staff")
    save_service(wdir, entry, version=None, username="alice")
    assert wdir.service("nouveau-service").name == "Nouveau service"
    with pytest.raises(EditError):
        save_service(wdir, entry, version=None, username="alice")  # duplicate id
    archive_service(wdir, "nouveau-service", "alice")
    with pytest.raises(Exception):
        wdir.service("nouveau-service")  # archived: not public any more
    actions = [r["action"] for r in audit_of(wdir, "nouveau-service")]
    assert actions == ["création", "archivage"]


def test_verify_today(wdir):
    verify_service(wdir, "utas-guise", "alice", today=date(2026, 11, 27))
    assert wdir.service("utas-guise").verified_on == "2026-11-27"
    assert wdir.db.execute("SELECT username FROM verification WHERE service_id='utas-guise'").fetchone()[0] == "alice"
    assert audit_of(wdir, "utas-guise")[0]["action"] == "vérification"


def test_queue_holds_old_and_flagged_entries(wdir):
    report_error(wdir, "utas-guise", "telephone")
    queue = verification_queue(wdir, months=6, today=date(2026, 11, 27))
    assert queue[0].service.id == "utas-guise" and "signalement" in queue[0].reason
    assert any(i.service.id == "reseau-soissonnais" for i in queue)  # verified in 2021
    with pytest.raises(EditError):
        report_error(wdir, "utas-guise", "<script>")


def test_closure_shows_in_contacts(wdir):
    add_closure(wdir, "reseau-soissonnais", "2026-12-01", "2026-12-31", "Travaux", "alice")
    s = wdir.service("reseau-soissonnais")
    inside = wdir.contact(s, "x", datetime(2026, 12, 10, 10, tzinfo=PARIS))
    outside = wdir.contact(s, "x", datetime(2027, 1, 10, 10, tzinfo=PARIS))
    assert inside["closed"]["until"] == "2026-12-31" and inside["open_now"] is False
    assert "closed" not in outside
    with pytest.raises(EditError):
        add_closure(wdir, "reseau-soissonnais", "2026-12-31", "2026-12-01", None, "alice")


def test_audit_log_is_append_only(wdir):
    verify_service(wdir, "utas-guise", "alice")
    for sql in ("UPDATE audit_log SET username = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception):
            wdir.db.execute(sql)


def test_accounts_and_sessions(wdir):
    db = wdir.db
    add_user(db, "alice", "un mot de passe long", "editeur")
    with pytest.raises(StaffError):
        add_user(db, "alice", "un mot de passe long", "editeur")
    with pytest.raises(StaffError):
        add_user(db, "bob", "court", "editeur")
    with pytest.raises(StaffError):
        add_user(db, "bob", "un mot de passe long", "chef")
    assert db.execute("SELECT password_hash FROM staff_user").fetchone()[0].startswith("$argon2id$")
    assert authenticate(db, "alice", "faux mot de passe!") is None
    user = authenticate(db, "alice", "un mot de passe long")
    token = open_session(db, user)
    assert session_user(db, token).username == "alice"
    close_session(db, token)
    assert session_user(db, token) is None
    token = open_session(db, user)
    set_password(db, "alice", "un autre mot de passe")
    assert session_user(db, token) is None  # a new password ends open sessions
    disable_user(db, "alice")
    assert authenticate(db, "alice", "un autre mot de passe") is None
