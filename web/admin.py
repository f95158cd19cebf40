"""Staff administration (/admin), one module per job:

- `admin_signin`: sign-in and sign-out;
- `admin_services`: the entries (list, create, edit, archive, verify, closures),
  with `admin_forms` for the form <-> entry mapping;
- `admin_verification`: the verification queue and the error reports;
- `admin_audit`: the audit log, per entry and as CSV;
- `admin_users`: the staff accounts.

Every route but the sign-in form depends on `require(role)` (web.staff: deny by
default, CSRF checked on every POST); SQL stays in directory/.
"""
from __future__ import annotations

from fastapi import APIRouter

from . import admin_audit, admin_services, admin_signin, admin_users, admin_verification

__all__ = ["router"]

router = APIRouter()
for _job in (admin_signin, admin_services, admin_verification, admin_audit, admin_users):
    router.include_router(_job.router)
