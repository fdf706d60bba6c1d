# Regelhulp. `make run` and `make test` do all set-up themselves (see README.md).
SHELL := /bin/bash
PY := .venv/bin/python

export RASA_HOST ?= 127.0.0.1
export RASA_PORT ?= 5005
export ACTION_PORT ?= 5055
export WEB_PORT ?= 8080
export TRACKER_DB ?= $(CURDIR)/.rasa/tracker.db
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: setup lint pipeline validate train test test-fast run shell eval nlu-report nlu-quick bench tune-fallback tune-facets figures loadtest purge insights check-sources clean

# default: embedded (SQLite tracker store, in-memory locks); prod: ops/prod.py (PostgreSQL, Redis, nginx)
PROFILE ?= default
DAYS ?= 30

QUESTIONS ?= eval/evaluation/questions.yml

setup:
	@bash ops/setup_venv.sh
	@bash ops/setup_web.sh

pipeline: setup
	@$(PY) -m ops.build_spacy_pipeline

validate: setup
	@$(PY) -m ops.validate_knowledge
	@$(PY) -m rasa data validate --fail-on-warning --max-history 4 2>&1 | grep -v "^\s*$$" | tail -n 20; exit $${PIPESTATUS[0]}

train: pipeline validate
	@$(PY) -m ops.train

# ruff (lint and format check) and mypy, settings in pyproject.toml; first in `make test`, so CI checks it
lint: setup
	@$(PY) -m ruff check .
	@$(PY) -m ruff format --check .
	@$(PY) -m mypy

test: lint train
	@bash ops/setup_browser.sh
	@bash ops/setup_nginx.sh
	@$(PY) -m pytest tests

# the unit tests only: no training, no servers, no PostgreSQL/Redis (markers slow and prod, pytest.ini)
test-fast: setup
	@$(PY) -m pytest -m "not slow and not prod" tests

run: train
ifeq ($(PROFILE),prod)
	@bash ops/setup_nginx.sh
	@$(PY) -m ops.run --prod
else
	@$(PY) -m ops.run
endif

loadtest: train
	@bash ops/setup_nginx.sh
	@$(PY) -m tools.loadtest $(LOADTEST_ARGS)

purge: setup
	@$(PY) -m ops.purge --days $(DAYS) --profile $(PROFILE)

insights: setup
	@$(PY) -m ops.insights --profile $(PROFILE)

# fetches every source page; exit 0 nothing changed, 1 changes (reports/sources.md), 2 no network
check-sources: setup
	@$(PY) -m ops.check_sources

shell: train
	@$(PY) -m ops.run --shell

eval: train
	@$(PY) -m tools.evaluate --questions $(QUESTIONS)

nlu-report: pipeline validate
	@$(PY) -m tools.nlu_report

nlu-quick: setup
	@$(PY) -m tools.nlu_quick_cv

tune-fallback: train
	@$(PY) -m tools.tune_fallback

tune-facets:
	@$(PY) -m tools.tune_facets

figures: train
	@$(PY) -m tools.figures

bench: pipeline validate
	@$(PY) -m tools.bench $(BENCH_ARGS)

clean:
	rm -rf build models .rasa reports/*.tmp .pytest_cache .mypy_cache .ruff_cache
