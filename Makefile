# The two commands that matter: `make run` and `make test`. `make help` lists the rest.
SHELL := /bin/bash
.DEFAULT_GOAL := help

APP_PYTHON ?= python3.11
VENV := .venv
RASA_VENV := .venv-rasa
RASA_ENV := RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1 PYTHONWARNINGS=ignore::DeprecationWarning

MODEL = models/model-$$(scripts/model-fingerprint).tar.gz

.PHONY: help setup run test soak lint format validate train conversations nlu-report bench clean \
	content-check publish bench-featurizer bench-records flake-hunt

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml requirements-embeddings.txt
	@command -v $(APP_PYTHON) >/dev/null || { echo "setup: $(APP_PYTHON) is needed for the app environment" >&2; exit 1; }
	$(APP_PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	$(VENV)/bin/pip install -q --no-deps --require-hashes -r requirements-embeddings.txt
	touch $@

$(RASA_VENV)/.installed: requirements-rasa.txt requirements-embeddings.txt
	@python310=$$(scripts/find-python310) && \
	  echo "setup: creating $(RASA_VENV) with $$python310" && \
	  $$python310 -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/pip install -q --upgrade pip wheel
	$(RASA_VENV)/bin/pip install -q -r requirements-rasa.txt
	$(RASA_VENV)/bin/pip install -q --no-deps --require-hashes -r requirements-embeddings.txt
	touch $@

setup: $(VENV)/.installed $(RASA_VENV)/.installed ## Create both Python environments and install the upload page's tus client
	@scripts/ensure-tus-js

train: setup ## Train the Rasa model if its training data changed
	@$(RASA_ENV) scripts/train

validate: setup ## Check the Rasa domain, rules, stories and NLU data
	$(RASA_ENV) $(RASA_VENV)/bin/rasa data validate --fail-on-warnings $$(scripts/training-data)

conversations: train ## Replay the conversation tests; any wrong prediction fails
	$(RASA_ENV) $(RASA_VENV)/bin/rasa test core --model $(MODEL) --stories tests/conversations \
	  --fail-on-prediction-errors --no-plot --out build/conversation-report

nlu-report: train ## Per language: intent macro-F1, FAQ top-1, answered share, cancer types, confusions
	$(RASA_ENV) PYTHONPATH=$(CURDIR) OMP_NUM_THREADS=1 $(RASA_VENV)/bin/python -m bench.nlu_report \
	  parse --model $(MODEL) --out build/nlu-report/parses.json
	$(VENV)/bin/python -m bench.nlu_report score build/nlu-report/parses.json

run: train ## Start Rasa, the actions, reception, the bot, the upload service and clamd (Ctrl-C stops them)
	@scripts/ensure-clamav
	scripts/run

content-check: setup ## Check the editors' content: front matter, keys, templates, examples, links
	$(VENV)/bin/python -m contenttools.check --form data/request_form.yml

publish: setup ## Check the content, retrain if the questions changed, load the model into Rasa
	@scripts/publish

lint: setup ## Check style, docstrings, common mistakes and types
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: setup ## Format the code
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: setup lint content-check validate train conversations ## Set everything up and run the whole test suite
	@scripts/ensure-chromium
	@scripts/ensure-axe
	@scripts/ensure-clamav
	$(VENV)/bin/python -m pytest -m "not e2e and not soak" -n 2  # the unit tests, on both cores
	$(VENV)/bin/python -m pytest -m "e2e and not soak"  # one shared stack, one test at a time

soak: setup train ## 50 patients at once, and 20 through a reception outage and a bot crash
	@scripts/ensure-clamav
	$(VENV)/bin/python -m pytest -m soak tests/soak -p no:cacheprovider -s --timeout 1200

bench: train ## Measure latency and throughput of the full stack against bare Rasa
	@scripts/ensure-clamav
	$(VENV)/bin/python -m bench.latency

bench-records: setup ## Measure reception's upload speed on loopback and the viewer's time to first slice
	@scripts/ensure-clamav
	$(VENV)/bin/python -m bench.records

bench-featurizer: train ## Measure what the E5 featurizer adds to a turn, against a model trained without it
	$(VENV)/bin/python -m bench.featurizer

flake-hunt: train ## Run the end-to-end and outbox tests RUNS times (20) with every core kept busy
	@scripts/ensure-chromium
	@scripts/ensure-axe
	@scripts/ensure-clamav
	scripts/hunt-flakes $(or $(RUNS),20)

clean: ## Remove generated files (models, databases, caches); keeps the environments
	rm -rf models var build .pytest_cache .ruff_cache
