"""Fault injection: whatever fails or hangs (understanding, rules, database, the hours
library, the session store), the person gets the emergency numbers of the directory
and the log says what failed without a word of the message. And every response,
errors and 500s included, carries the security headers."""
from __future__ import annotations

import logging
import sqlite3
import time
import uuid

import pytest
from fastapi.testclient import TestClient

from conftest import routes_of

EMERGENCY = {"police-secours-17", "numero-urgence-europeen-112", "urgence-sms-114"}
HEADERS = {"content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options",
           "cache-control"}


@pytest.fixture(scope="module")
def fault_app(db_path, model_dir):
    from web.app import create_app
    from web.settings import Settings

    return create_app(Settings.from_env(db=db_path, model_dir=model_dir))


@pytest.fixture
def fc(fault_app):
    with TestClient(fault_app, raise_server_exceptions=False) as c:
        yield c


def _raise(exc):
    def broken(*a, **k):
        raise exc
    return broken


def _hang(*a, **k):
    time.sleep(3)
    raise RuntimeError("too late")


def _faults(app):
    import directory.services as services

    d, o, u = app.state.directory, app.state.orienter, app.state.understander
    return {
        "understanding raises": (u.model, "predict", _raise(ValueError("zqmarker"))),
        "understanding hangs": (u.model, "predict", _hang),
        "rules raise": (o, "orient", _raise(KeyError("zqmarker"))),
        "rules hang": (o, "orient", _hang),
        "database fails": (d, "resolve_commune", _raise(sqlite3.OperationalError("database is locked"))),
        "database hangs": (d, "resolve_commune", _hang),
        "hours library fails": (services, "open_now", _raise(ValueError("zqmarker"))),
        "hours library hangs": (services, "open_now", _hang),
    }


@pytest.mark.parametrize("fault", ["understanding raises", "understanding hangs", "rules raise", "rules hang",
                                   "database fails", "database hangs", "hours library fails",
                                   "hours library hangs"])
def test_any_fault_gives_the_emergency_answer(fault_app, fc, monkeypatch, caplog, fault):
    import web.turns

    monkeypatch.setattr(web.turns, "TURN_SECONDS", 1)
    obj, name, replacement = _faults(fault_app)[fault]
    monkeypatch.setattr(obj, name, replacement)
    sender, marker = uuid.uuid4().hex, "zq" + uuid.uuid4().hex
    with caplog.at_level(logging.INFO):
        replies = []
        # the commune misspelt, so that it is resolved by the directory (the "database" faults)
        for m in (f"mon mari me frappe {marker}", "oui", f"chaunie {marker}"):
            r = fc.post("/webhooks/rest/webhook", json={"sender": sender, "message": m})
            assert r.status_code == 200 and HEADERS <= set(r.headers)
            replies.append(r.json())
    ids = [{c["id"] for msg in reply for c in msg.get("custom", {}).get("contacts", [])} for reply in replies]
    assert any(EMERGENCY <= s for s in ids), (fault, replies)  # the numbers, at the first failing turn
    assert marker not in caplog.text and "zqmarker" not in caplog.text
    assert "mari" not in caplog.text and "Chauny" not in caplog.text
    assert any(r.levelno >= logging.ERROR for r in caplog.records)  # the failure is in the log


def test_routes_of_every_kind_carry_the_security_headers(fault_app, fc):
    from web import admin, api_chat, api_directory, api_hsds, api_orientation, api_understand, pages, pro

    routers = (admin, api_chat, api_directory, api_hsds, api_orientation, api_understand, pages, pro)
    paths = [r.path.replace("{service_id}", "x").replace("{sid}", "x").replace("{report_id}", "1")
             for m in routers for r in routes_of(m.router)]
    assert len(paths) > 20
    for path in paths + ["/static/chat.css", "/nulle-part", "/api/openapi.json"]:
        for method in ("GET", "POST", "HEAD"):
            r = fc.request(method, path, follow_redirects=False)
            assert HEADERS <= set(r.headers), (method, path, r.status_code)
    r = fc.post("/api/understand", content=b"x" * 100_000, headers={"content-type": "application/json"})
    assert r.status_code == 413 and HEADERS <= set(r.headers)


def test_a_500_carries_the_security_headers(fault_app, fc, monkeypatch):
    monkeypatch.setattr(fault_app.state.directory, "service", _raise(RuntimeError("boom")))
    r = fc.get("/api/services/france-victimes-02")
    assert r.status_code == 500 and HEADERS <= set(r.headers)
    assert r.headers["content-type"].startswith("application/json")
