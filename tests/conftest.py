"""Shared fixtures. Tests use in-process clients (no server, no port)."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from directory import DATA_DIR, Directory, connect, load

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def db_path(tmp_path_factory) -> Path:
    """A database file loaded once from the real data/ for the whole session (read-only use)."""
    path = tmp_path_factory.mktemp("db") / "orientation.db"
    db = connect(path)
    load(db, DATA_DIR)
    # Fold the WAL into the main file, so tests can copy the file alone.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path


@pytest.fixture(scope="session")
def directory(db_path) -> Directory:
    """The directory over the session database."""
    return Directory.open(db_path)


@pytest.fixture(scope="session")
def orienter(directory):
    """The shipped rules bound to the session directory."""
    from rules import Orienter

    return Orienter(directory)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """The trained situation classifier: the one `make test` builds in var/, else trained now."""
    from web.settings import Settings

    from bot.understand import english_model_dir

    built = Settings.from_env().model_dir
    if (built / "meta.json").exists() and (english_model_dir(built) / "meta.json").exists():
        return built
    from bot import situation_en
    from bot.situation import train

    path = tmp_path_factory.mktemp("model")
    train().save(path)
    situation_en.train().save(english_model_dir(path))  # the English classifier (issue 14)
    return path


@pytest.fixture(scope="session")
def understander(directory, model_dir):
    """The understanding layer over the session directory and model."""
    from bot.understand import Understander

    return Understander(directory, model_dir)


@pytest.fixture
def dialogue(directory, orienter, understander):
    """A dialogue with its own, empty session store and a fake clock (`dialogue.clock`)."""
    from bot.dialogue import Dialogue
    from bot.sessions import SessionStore

    clock = {"now": 1000.0}
    d = Dialogue(directory, orienter, understander, SessionStore(ttl=1800, max_sessions=50, clock=lambda: clock["now"]))
    d.clock = clock
    return d


@pytest.fixture(scope="session")
def app(db_path, model_dir):
    """The ASGI application over the session database."""
    from web.app import create_app
    from web.settings import Settings

    # One test client address for the whole session: lift its budget of new conversations
    # (tests/test_hardening.py tests the budget on an app of its own).
    settings = Settings.from_env(db=db_path, model_dir=model_dir, new_chats_per_client=1_000_000)
    return create_app(settings)


@pytest.fixture(scope="session")
def client(app):
    """An in-process HTTP client (Starlette TestClient)."""
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        yield c


@pytest.fixture
def data_copy(tmp_path) -> Path:
    """A writable copy of data/ to break on purpose."""
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    return target


@pytest.fixture
def fresh_db(tmp_path):
    """An empty database file with the schema applied."""
    from directory import migrate

    db = connect(tmp_path / "fresh.db")
    migrate(db)
    return db


def routes_of(router):
    """The routes of a router, those of the routers it includes too (FastAPI keeps them nested)."""
    for route in router.routes:
        if hasattr(route, "original_router"):
            yield from routes_of(route.original_router)
        else:
            yield route


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(db: Path, model_dir: Path, log_file: Path, args=(), **env):
    """A real `orientation serve` on a free loopback port (`args`: more options, e.g.
    ("--workers", "2")); yields its base URL. `serve.process` is the server's Popen."""
    import httpx

    port = free_port()
    full_env = {**os.environ, "ORIENTATION_DB": str(db), "ORIENTATION_MODEL": str(model_dir), **env}
    with log_file.open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "web.cli", "serve", "--port", str(port), *args],
                                  env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        serve.process = server
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    httpx.get(base + "/webhooks/rest/", timeout=1)
                    break
                except httpx.HTTPError:
                    if server.poll() is not None:
                        raise RuntimeError(log_file.read_text(errors="replace"))
                    time.sleep(0.1)
            yield base
        finally:
            server.terminate()
            server.wait(timeout=10)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server (Debian package) on a free loopback port, no persistence, in a
    temporary folder; skips with the reason where there is none."""
    import shutil as _shutil

    binary = _shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server absent (apt-get install redis-server; .ci/run installs it): Redis tests skipped")
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if proc.poll() is not None:
                pytest.skip(f"redis-server could not start (exit {proc.returncode}): Redis tests skipped")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(timeout=10)


# -- conversation helpers (whole conversations through `Dialogue.handle`) ---------------------
def talk(dialogue, messages, sender):
    """Every reply to the messages, in order, in one conversation."""
    replies = []
    for m in messages:
        replies += dialogue.handle(sender, m)
    return replies


def texts(replies) -> str:
    return " ".join(r.get("text", "") for r in replies)


def asks(replies) -> list[str]:
    """The facts the replies ask for."""
    return [r["custom"]["asks"] for r in replies if "asks" in r.get("custom", {})]


def contract(name: str):
    """A validator for one of the shared contract schemas (`webhook`, `orientation`,
    `understand`, `contact`), with their cross-references; skips when they are absent."""
    import json

    import jsonschema
    import pytest
    from referencing import Registry, Resource

    folder = SHARED / "spec" / "schemas"
    path = folder / f"{name}.schema.json"
    if not path.exists():
        pytest.skip(f"contract schema absent: {path}")
    registry = Registry()
    for p in folder.glob("*.schema.json"):
        registry = registry.with_resource(p.name, Resource.from_contents(json.loads(p.read_text())))
    return jsonschema.Draft202012Validator(json.loads(path.read_text()), registry=registry)


# -- browser tests: Debian's Chromium through Playwright, never a downloaded browser ----------
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--lang=fr-FR"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless (the browser test modules skip when it is absent)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(context):
    """A page of the module's `context` that records every JavaScript dialog (alert...)
    in `page.dialogs`, and dismisses it."""
    p = context.new_page()
    p.dialogs = []
    p.on("dialog", lambda d: (p.dialogs.append(d.message), d.dismiss()))
    return p


@pytest.fixture
def orientation_cli():
    """Invoke the `orientation` command in-process: `orientation_cli("--db", path, "export", ...)`."""
    from click.testing import CliRunner

    from web.cli import cli

    def invoke(*args):
        return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return invoke


WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def axe_violations(page) -> str:
    """axe-core's WCAG 2.2 AA violations on the page, one readable line each ("" when none)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA},
                                       "resultTypes": ["violations"]})
    lines = []
    for v in results.response["violations"]:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']}")
        lines += [f"    {n['target']}: {n.get('failureSummary', '')}" for n in v["nodes"][:5]]
    return "\n".join(lines)
