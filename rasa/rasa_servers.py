"""Start Rasa 3.6 (.venv-rasa) and our action server (the project's venv) on the
loopback, wait until both answer, stop them. Used by `make run-rasa`, the live REST
check (scripts/test_rasa_live.py) and the side-by-side bench (bench/bench_rasa.py).

Rasa runs with the HTTP API off (no `--enable-api`), telemetry off, bound to
127.0.0.1, with the assistant's session expiry and the forgetting tracker store of
rasa/orientation_tracker_store.py. Logs go to files (they hold no message text: the
live check looks for a marker in them).

    python rasa/rasa_servers.py serve [--build build/rasa] [--port 5005] [--actions-port 5055]
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
BUILD = ROOT / "build" / "rasa"
RASA_VENV = Path(os.environ.get("RASA_VENV", ROOT / ".venv-rasa"))
LOOPBACK = "127.0.0.1"


def rasa_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update({"RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(HERE), "SANIC_HOST": LOOPBACK,
                "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONWARNINGS": "ignore"})
    return env


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0.0
    pids = [pid]
    seen = set()
    while pids:
        p = pids.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                pids.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total


def wait_http(url: str, proc: subprocess.Popen, timeout: float, launched: float | None = None) -> float:
    """Seconds from `launched` (default: now) until url answers 200 (raises if the
    process dies or time runs out)."""
    start = time.perf_counter()
    launched = start if launched is None else launched
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"le processus s'est arrêté (code {proc.returncode}) avant de répondre sur {url}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.perf_counter() - launched
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"pas de réponse de {url} après {timeout:.0f} s")


def latest_model(build: Path) -> Path:
    models = sorted((build / "models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise FileNotFoundError(f"aucun modèle entraîné dans {build / 'models'} : lancez « make rasa »")
    return models[-1]


class Backends:
    """The two servers of the Rasa profile. Use as a context manager."""

    def __init__(self, build: Path = BUILD, *, port: int = 5005, actions_port: int = 5055,
                 python: str = sys.executable, logs: Path | None = None, db: str | None = None):
        self.build = Path(build)
        self.port, self.actions_port = port, actions_port
        self.python = python
        self.logs = Path(logs) if logs else self.build / "logs"
        self.db = db
        self.actions: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None
        self.actions_start = self.rasa_start = None
        self._tmp = tempfile.TemporaryDirectory(prefix="rasa-endpoints-")

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def _endpoints(self) -> Path:
        """endpoints.yml of the export, pointed at this action server's port."""
        data = yaml.safe_load((self.build / "endpoints.yml").read_text(encoding="utf-8"))
        data["action_endpoint"]["url"] = f"http://{LOOPBACK}:{self.actions_port}/webhook"
        path = Path(self._tmp.name) / "endpoints.yml"
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    def start(self, timeout: float = 180) -> "Backends":
        self.logs.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        if self.db:
            env["ORIENTATION_DB"] = self.db
        t0 = time.perf_counter()
        self.actions = subprocess.Popen(
            [self.python, "-m", "web.cli_rasa", "rasa-actions", "--port", str(self.actions_port)], cwd=ROOT, env=env,
            stdout=open(self.logs / "actions.log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
        cmd = [str(RASA_VENV / "bin" / "rasa"), "run", "--model", str(latest_model(self.build)),
               "--endpoints", str(self._endpoints()), "--credentials", str(self.build / "credentials.yml"),
               "--interface", LOOPBACK, "--port", str(self.port), "--response-timeout", "60"]
        t_rasa = time.perf_counter()
        self.rasa = subprocess.Popen(cmd, cwd=self.build, env=rasa_env(), stdout=open(self.logs / "rasa.log", "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.actions_start = wait_http(f"http://{LOOPBACK}:{self.actions_port}/health", self.actions, timeout, t0)
            self.rasa_start = wait_http(f"{self.url}/webhooks/rest/", self.rasa, timeout - (time.perf_counter() - t0),
                                        t_rasa)
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for proc in (self.rasa, self.actions):
            if proc and proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    continue
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
        self._tmp.cleanup()

    def memory_mb(self) -> tuple[float, float]:
        return rss_mb(self.rasa.pid), rss_mb(self.actions.pid)

    def logs_text(self) -> str:
        return "".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(self.logs.glob("*.log")))

    def __enter__(self) -> "Backends":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Rasa 3.6 et le serveur d'actions, sur 127.0.0.1.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="servir jusqu'à Ctrl-C")
    serve.add_argument("--build", type=Path, default=BUILD)
    serve.add_argument("--port", type=int, default=5005)
    serve.add_argument("--actions-port", type=int, default=5055)
    args = parser.parse_args()
    backends = Backends(args.build, port=args.port, actions_port=args.actions_port)
    try:
        backends.start()
    except (RuntimeError, TimeoutError, FileNotFoundError) as exc:
        sys.exit(f"run-rasa : {exc} (journaux : {backends.logs})")
    print(f"Rasa (canal REST) : {backends.url}/webhooks/rest/webhook ; prêt en {backends.rasa_start:.1f} s ; "
          f"actions sur http://{LOOPBACK}:{args.actions_port} ; journaux : {backends.logs}", flush=True)
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        while not stop["now"]:
            if backends.rasa.poll() is not None or backends.actions.poll() is not None:
                print("run-rasa : un des serveurs s'est arrêté", file=sys.stderr)
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        backends.stop()


if __name__ == "__main__":
    main()
