# Two commands on a fresh machine: `make run` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
ORIENTATION := $(VENV)/bin/orientation
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
export ORIENTATION_DB ?= $(CURDIR)/var/orientation.db

.PHONY: setup db model run test bench check-contracts clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

# Build the database from data/ when missing or empty; apply pending migrations.
db: setup
	$(ORIENTATION) db init --load-if-empty

# Train the situation classifier when it is missing or its inputs changed (seconds, fixed seed).
MODEL := var/nlu-model/meta.json
$(MODEL): $(STAMP) data/nlu.yml bot/cues.yml bot/situation.py bot/lemmas.py bot/normalize.py data/nlu_en.yml bot/cues_en.yml bot/situation_en.py
	$(ORIENTATION) nlu train

model: $(MODEL)

run: db model
	$(ORIENTATION) serve --host $(HOST) --port $(PORT)

test: setup model
	$(PY) -m pytest

bench: db model
	$(PY) bench/run.py

check-contracts: setup
	$(PY) ../shared/tools/check_contracts.py http://$(HOST):$(PORT)

clean:
	rm -rf $(VENV) var build *.egg-info

# The Rasa profile (issue 7): targets rasa, run-rasa, test-rasa, bench-rasa.
-include rasa.mk
