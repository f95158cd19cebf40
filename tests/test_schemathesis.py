"""Schemathesis, in-process, over every public and staff endpoint: no 5xx, every status
and content type documented, bodies as documented.

Public endpoints: the app's own OpenAPI document (`/api/openapi.json`). Staff pages
are kept out of it on purpose (HTML forms, not an API), so this test builds a
second document from the same routes (FastAPI's own generator), adds the form
fields each page reads, and calls them as a logged-in admin with the CSRF token.
Examples are bounded so that the whole suite stays within minutes.
"""
from __future__ import annotations

import copy

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from directory import backup, connect
from directory.staff import add_user, session_user

PASSWORD = "un mot de passe assez long"
EXAMPLES = 12

TEXT = {"type": "string", "maxLength": 300}
SERVICE_FORM = {name: TEXT for name in ("id", "name", "organization", "category", "description", "url", "hours",
                                        "access", "source", "street", "postal_code", "city", "visibility", "cost",
                                        "verified_on", "version", "area", "confidential_address", "emergency",
                                        "a_verifier")}
SERVICE_FORM.update({name: {"type": "array", "items": TEXT, "maxItems": 5}
                     for name in ("phone_number", "phone_type", "situations", "ages", "roles")})
# The fields each staff form reads (web/admin.py, web/pro.py).
FORMS = {
    ("post", "/admin/login"): {"username": TEXT, "password": TEXT, "next": TEXT},
    ("post", "/admin/services/new"): SERVICE_FORM,
    ("post", "/admin/services/{sid}"): SERVICE_FORM,
    ("post", "/admin/services/{sid}/verify"): {"next": TEXT},
    ("post", "/admin/services/{sid}/closures"): {"start": TEXT, "end": TEXT, "reason": TEXT},
    ("post", "/admin/reports/{report_id}/resolve"): {"next": TEXT},
    ("post", "/admin/users"): {"username": TEXT, "role": TEXT, "password": TEXT, "password_again": TEXT},
    ("post", "/pro/signalement"): {"service_id": TEXT, "kind": TEXT, "back": TEXT},
}
QUERIES = {
    ("get", "/pro"): ["commune", "situation", "besoin", "q"],
    ("get", "/admin"): ["q", "category", "visibility", "status", "a_verifier"],
    ("get", "/admin/login"): ["next"],
}
# What a staff page may answer: the page, a redirect after a POST or to the login
# form, refusals, conflicts and limits; HTML or the API's JSON error.
STAFF_STATUSES = ("200", "303", "401", "403", "404", "408", "409", "413", "415", "422", "429", "503")
SKIPPED = {("post", "/admin/logout"), ("post", "/admin/users/disable"), ("post", "/admin/users/password"),
           ("post", "/admin/services/{sid}/archive")}  # they would end the test's own session or entries


def staff_document(app) -> dict:
    from fastapi.openapi.utils import get_openapi

    from web import admin, pro

    from conftest import routes_of

    routes = []
    for route in (*routes_of(admin.router), *routes_of(pro.router)):
        if any((m.lower(), route.path) in SKIPPED for m in route.methods):
            continue
        route = copy.copy(route)
        route.include_in_schema = True
        routes.append(route)
    doc = get_openapi(title="staff", version="test", routes=routes)
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if (method, path) in FORMS:
                op["requestBody"] = {"required": True, "content": {"application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "properties": FORMS[method, path]}}}}
            for name in QUERIES.get((method, path), []):
                op.setdefault("parameters", []).append({"name": name, "in": "query", "required": False,
                                                        "schema": TEXT})
            op["responses"] = {code: {"description": code, "content": {"text/html": {}, "application/json": {},
                                                                       "text/csv": {}}}
                               for code in STAFF_STATUSES}
            op["responses"]["303"] = {"description": "redirection"}
    return doc


@pytest.fixture(scope="module")
def fuzz_app(db_path, model_dir, tmp_path_factory):
    from web.app import create_app
    from web.settings import Settings

    path = tmp_path_factory.mktemp("fuzz") / "orientation.db"
    backup(connect(db_path), path)
    app = create_app(Settings.from_env(db=path, model_dir=model_dir, new_chats_per_client=1_000_000))
    add_user(app.state.directory.db, "admin", PASSWORD, "admin")
    return app


@pytest.fixture(scope="module")
def public_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/api/openapi.json", fuzz_app)


@pytest.fixture(scope="module")
def staff_schema(fuzz_app):
    schema = schemathesis.openapi.from_dict(staff_document(fuzz_app))
    schema.app = fuzz_app
    return schema


@pytest.fixture(scope="module")
def admin_headers(fuzz_app):
    from fastapi.testclient import TestClient

    c = TestClient(fuzz_app, base_url="https://testserver")
    assert c.post("/admin/login", data={"username": "admin", "password": PASSWORD},
                  follow_redirects=False).status_code == 303
    token = c.cookies.get("__Host-session")
    return {"Cookie": f"__Host-session={token}",
            "X-CSRF-Token": session_user(fuzz_app.state.directory.db, token).csrf}


# Situation, category and need codes are data (data/taxonomy.yaml), so the document types
# them as strings: an unknown code is rightly a 422, which this heuristic check would
# call "valid data rejected". Every other check of schemathesis runs.
from schemathesis.specs.openapi.checks import positive_data_acceptance  # noqa: E402

EXCLUDED = [positive_data_acceptance]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))


def fuzz(schema, **call) -> list[str]:
    """Every operation of `schema`, EXAMPLES cases each; the failures, one line each."""
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @FUZZ
        @given(operation.as_strategy())
        def check(case):
            case.call_and_validate(base_url="https://testserver", excluded_checks=EXCLUDED, **call)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # collect them all, then fail with the list
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}")
    return failures


def test_public_api(public_schema):
    assert len(list(public_schema.get_all_operations())) >= 11
    failures = fuzz(public_schema)
    assert not failures, "\n\n".join(failures)


def test_staff_pages(staff_schema, admin_headers):
    assert len(list(staff_schema.get_all_operations())) >= 15
    failures = fuzz(staff_schema, headers=admin_headers)
    assert not failures, "\n\n".join(failures)
