# Property Service Desk. `make run` serves the app; `make test` runs the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
FLASK := FLASK_APP=wsgi.py $(VENV)/bin/flask
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 5000
WORKERS ?= 2
DEMO ?= 1

.PHONY: install install-test system run check lint test test-sqlite test-pg test-clock fuzz translations extract-messages bench bench-quick bench-slips bench-money bench-screens clean help

help:
	@echo "make run    - install what is missing, migrate, load the demo on first start, serve :$(PORT)"
	@echo "make check  - the everyday loop: lint, then the unit and service tests (under a minute)"
	@echo "make test   - lint, the whole suite on SQLite, then again on a throwaway PostgreSQL"
	@echo "make test-clock - unit, service, web and PDF tests at month ends, new year, 29 Feb, 2 years on"

# ---- installation (idempotent: each step runs only when its inputs changed) ----

install: system $(VENV)/.installed app/translations/zh/LC_MESSAGES/messages.mo

install-test: install
	@bash scripts/install-system.sh --test

system:
	@PYTHON=$(PYTHON) bash scripts/install-system.sh

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[dev]"
	@touch $@

app/translations/zh/LC_MESSAGES/messages.mo: app/translations/zh/LC_MESSAGES/messages.po $(VENV)/.installed
	$(VENV)/bin/pybabel compile --statistics -d app/translations

# ---- running ----

run: install
	$(FLASK) db upgrade
	@if [ "$(DEMO)" = "1" ]; then $(FLASK) seed-demo --if-empty && $(FLASK) demo-logins; fi
	@echo "Serving http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	@if [ "$${FLASK_DEBUG:-0}" = "1" ]; then \
	  $(FLASK) run --host $(HOST) --port $(PORT) --debug; \
	else \
	  WEB_CONCURRENCY=$(WORKERS) HOST=$(HOST) PORT=$(PORT) $(VENV)/bin/gunicorn -c scripts/gunicorn.conf.py; \
	fi

# ---- testing ----

# Test processes: one per core (pytest-xdist); JOBS=1 runs in one process.
JOBS ?= auto
PYTEST := $(PY) -m pytest -q -p no:cacheprovider -n $(JOBS)

# ruff (lint) and import-linter (the layers contract in pyproject.toml): either fails the build.
lint: $(VENV)/.installed
	@echo "== lint: ruff, and the layers contract =="
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

# The everyday loop: lint, then the unit and service tests on SQLite, without the slow ones
# (the demo seeded whole, months of history migrated), which `make test` runs.
check: install lint
	$(PYTEST) -m "not slow" tests/unit tests/services

test: install-test
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory bench-quick
	$(MAKE) --no-print-directory test-pg

test-sqlite:
	@echo "== the suite on SQLite =="
	$(PYTEST)

test-pg:
	@echo "== the suite on PostgreSQL (throwaway server) =="
	PSD_TEST_PG=1 $(PYTEST)

# The unit, service, web and PDF tests with the clock moved (time-machine) to the last day of next
# month 23:50, the 1st of next month 00:05, 31 December 23:55, 29 February and two years ahead,
# two runs at a time (see scripts/test_clock.py). Not part of `make test`.
test-clock: install-test
	$(PY) scripts/test_clock.py

# The fuzz tests of every form and query string with many more examples than `make test` runs
# (PSD_FUZZ_EXAMPLES per role; default 1000, about 15 minutes), on SQLite.
FUZZ_EXAMPLES ?= 1000
fuzz: install-test
	PSD_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider tests/web/test_fuzz_forms.py

# ---- maintenance ----

extract-messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o app/translations/messages.pot --no-location --sort-output --project "Property Service Desk" .
	$(VENV)/bin/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching

translations: app/translations/zh/LC_MESSAGES/messages.mo

# The benchmark harness (scripts/bench/): every scenario, or some (`make bench ONLY="board live"`;
# names in scripts/bench/scenarios/__init__.py); writes docs/bench/results.json and the figures
# in docs/PERFORMANCE.md. All of it takes about 20 minutes; needs wrk, Chromium, PostgreSQL.
ONLY ?=
bench: install-test
	$(PY) -m scripts.bench full $(if $(ONLY),--only $(ONLY))

# Every scenario with tiny sizes, in well under a minute (part of `make test`, so the harness
# cannot rot): fails if one raises or gives an empty result; writes only test-artifacts/bench/.
bench-quick:
	@echo "== the benchmark harness, quick =="
	$(PY) -m scripts.bench quick

# The old targets, now parts of the one harness.
bench-slips:
	$(MAKE) --no-print-directory bench ONLY="board live slip_pdf idle"
bench-money:
	$(MAKE) --no-print-directory bench ONLY="payments month_end money_pdfs till"
bench-screens:
	$(MAKE) --no-print-directory bench ONLY=screens

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
