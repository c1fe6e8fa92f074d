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

.PHONY: install install-test system run check lint test test-sqlite test-pg test-clock fuzz translations extract-messages bench bench-slips bench-money bench-screens clean help

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

bench: install
	$(PY) scripts/bench.py
	$(MAKE) --no-print-directory bench-slips
	$(MAKE) --no-print-directory bench-money

# Open screens against the board: 500 live waits beside wrk on the board, gevent vs gthread
# workers, and how fast one change reaches all of them; about 3 minutes.
bench-screens: install-test
	$(PY) scripts/bench_screens.py

# The slip lifecycle under load (issue 3): gunicorn + wrk + Chromium, about 8 minutes.
bench-slips: install-test
	@command -v wrk >/dev/null || { [ "$$(id -u)" -eq 0 ] && apt-get install -y -qq wrk >/dev/null; } \
	  || { echo "wrk is missing: sudo apt-get install -y wrk"; exit 1; }
	$(PY) scripts/bench_slips.py

# Money (issue 4): payments, 20 tills at once, month end, money PDFs, the till's queue and unit
# accounts with history; in-process on SQLite and a throwaway PostgreSQL, about 4 minutes.
bench-money: install-test
	$(PY) scripts/bench_money.py

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
