# The Rasa profile (issue 7), included by the Makefile.
#
#   make rasa        .venv-rasa (Python 3.10, Rasa 3.6.21), the [rasa] extra in $(VENV),
#                    export the assistant to build/rasa, train it when its sources changed
#   make run-rasa    Rasa on 127.0.0.1:$(RASA_PORT) (REST channel; HTTP API off) and our
#                    action server on 127.0.0.1:$(RASA_ACTIONS_PORT)
#   make test-rasa   rasa data validate, rasa test core, the tracker store, the export's
#                    tests, and a live conversation through the REST channel
#   make bench-rasa  our engine and Rasa side by side: latency, throughput, memory,
#                    start and training time, NLU accuracy on the held-out messages
#
# Rasa 3.6 needs Python >= 3.8, < 3.11: it lives in its own venv, built from pyenv's
# Python 3.10 with ONE pip command from the lock file (Rasa and spaCy together).
RASA_VENV ?= .venv-rasa
RASA_LOCK := rasa/requirements-rasa36-py310.lock.txt
RASA_STAMP := $(RASA_VENV)/.installed
RASA_BIN := $(CURDIR)/$(RASA_VENV)/bin/rasa
RASA_BUILD ?= build/rasa
RASA_MODEL := $(RASA_BUILD)/models/orientation.tar.gz
RASA_SOURCES := $(RASA_BUILD)/domain.yml $(RASA_BUILD)/config.yml $(RASA_BUILD)/data/nlu.yml $(RASA_BUILD)/data/rules.yml
RASA_EXTRA_STAMP := $(VENV)/.installed-rasa
RASA_PORT ?= 5005
RASA_ACTIONS_PORT ?= 5055
export RASA_TELEMETRY_ENABLED := false

# pyenv's Python 3.10 first, then any python3.10 on the PATH; PYTHON310=... overrides.
PYTHON310 ?= $(shell for p in "$$(pyenv root 2>/dev/null)"/versions/3.10*/bin/python3.10 python3.10; do \
	command -v "$$p" >/dev/null 2>&1 && "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null \
	&& { echo "$$p"; break; }; done)

.PHONY: rasa rasa-python rasa-export run-rasa test-rasa bench-rasa clean-rasa

# Exit 1, with the reason, when no Python 3.10 is found (.ci/run uses it to skip).
rasa-python:
	@if [ -z "$(PYTHON310)" ]; then \
	  echo "rasa : aucun Python 3.10 trouvé (Rasa 3.6 demande Python >= 3.8 et < 3.11)." >&2; \
	  echo "       Installez-le (pyenv install 3.10.13) ou indiquez-le : make rasa PYTHON310=/chemin/python3.10" >&2; \
	  exit 1; fi

$(RASA_STAMP): $(RASA_LOCK)
	@$(MAKE) --no-print-directory rasa-python
	test -x $(RASA_VENV)/bin/python || $(PYTHON310) -m venv $(RASA_VENV)
	@echo "rasa : installation de Rasa 3.6.21 et spaCy dans $(RASA_VENV) (2 à 3 minutes, environ 2,7 Go)"
	$(RASA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $(RASA_LOCK)
	$(RASA_VENV)/bin/python -m pip check
	$(RASA_VENV)/bin/rasa --version >/dev/null
	touch $@

# The action server runs on the project's Python with rasa-sdk (the [rasa] extra).
$(RASA_EXTRA_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,rasa]'
	@$(PY) -c 'import rasa_sdk' 2>/dev/null || { \
	  echo "rasa : rasa-sdk manque dans $(VENV) : pyproject.toml doit déclarer l'extra [rasa] (rasa = [\"rasa-sdk==3.21.1\"])." >&2; exit 1; }
	touch $@

# Deterministic: a file whose content did not change keeps its date (no new training).
rasa-export: db
	$(PY) -m web.cli_rasa rasa export $(RASA_BUILD)

$(RASA_MODEL): $(RASA_SOURCES) $(RASA_STAMP)
	$(RASA_VENV)/bin/python rasa/train.py $(RASA_BUILD)

rasa: $(RASA_STAMP) $(RASA_EXTRA_STAMP) rasa-export
	@$(MAKE) --no-print-directory $(RASA_MODEL)

run-rasa: rasa
	$(PY) rasa/rasa_servers.py serve --build $(RASA_BUILD) --port $(RASA_PORT) --actions-port $(RASA_ACTIONS_PORT)

test-rasa: rasa model
	@mkdir -p $(RASA_BUILD)/logs
	@cd $(RASA_BUILD) && PYTHONWARNINGS=ignore $(RASA_BIN) data validate --fail-on-warnings > logs/validate.log 2>&1 \
	  || { tail -40 logs/validate.log; echo "ÉCHEC rasa data validate" >&2; exit 1; }
	@echo "ok     rasa data validate (journal : $(RASA_BUILD)/logs/validate.log)"
	@cd $(RASA_BUILD) && PYTHONWARNINGS=ignore $(RASA_BIN) test core --stories tests/test_stories.yml \
	  --model models/orientation.tar.gz --out results --fail-on-prediction-errors > logs/test-core.log 2>&1 \
	  || { tail -60 logs/test-core.log; echo "ÉCHEC rasa test core" >&2; exit 1; }
	@grep -a "Correct:" $(RASA_BUILD)/logs/test-core.log | sed 's/.*- */ok     rasa test core : /'
	@PYTHONPATH=rasa PYTHONWARNINGS=ignore $(RASA_VENV)/bin/python rasa/check_tracker_store.py \
	  2> $(RASA_BUILD)/logs/tracker-store.log || { tail -20 $(RASA_BUILD)/logs/tracker-store.log; exit 1; }
	$(PY) -m pytest -q -p no:cacheprovider tests/test_rasa_export.py
	$(PY) scripts/test_rasa_live.py

bench-rasa: rasa model
	$(PY) bench/bench_rasa.py

clean-rasa:
	rm -rf $(RASA_VENV) $(RASA_BUILD)
