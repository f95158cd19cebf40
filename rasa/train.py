"""`rasa train` in the exported assistant's folder, timed; the time goes to
train_time.json (read by bench/bench_rasa.py), Rasa's output to logs/train.log.

    .venv-rasa/bin/python rasa/train.py build/rasa
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml


def main() -> int:
    build = Path(sys.argv[1] if len(sys.argv) > 1 else "build/rasa").resolve()
    rasa = Path(sys.executable).parent / "rasa"
    (build / "logs").mkdir(parents=True, exist_ok=True)
    log = build / "logs" / "train.log"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "2"}
    config = yaml.safe_load((build / "config.yml").read_text(encoding="utf-8"))
    epochs = next((c.get("epochs") for c in config["pipeline"] if c["name"] == "DIETClassifier"), None)
    print(f"rasa train (DIET, {epochs} époques) dans {build} ; journal : {log}", flush=True)
    start = time.perf_counter()
    with log.open("w") as out:
        code = subprocess.call([str(rasa), "train", "--fixed-model-name", "orientation", "--out", "models"],
                               cwd=build, env=env, stdout=out, stderr=subprocess.STDOUT)
    seconds = time.perf_counter() - start
    if code != 0:
        print(log.read_text(encoding="utf-8", errors="replace")[-4000:], file=sys.stderr)
        print(f"rasa train a échoué (code {code})", file=sys.stderr)
        return code
    (build / "train_time.json").write_text(json.dumps({"seconds": round(seconds, 1), "epochs": epochs,
                                                         "cores": os.cpu_count()}) + "\n", encoding="utf-8")
    print(f"modèle entraîné en {seconds:.0f} s : {build / 'models' / 'orientation.tar.gz'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
