# Mynapoint — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo serves from one process: its SQLite database writes one transaction at a time
# whatever the number of processes, and one process keeps the log in one stream and the rate
# limits exact without Redis; it runs the background jobs itself, also on PostgreSQL (no
# `mynapoint worker` to start). Production: docs/DEPLOYMENT.md (`mynapoint serve --workers N`
# and `mynapoint worker`, docs/JOBS.md).
WORKERS ?= 1
# Platform time for the demo: a Monday on which the support corners are open.
DEMO_CLOCK_START ?= 2021-07-19T10:00:00+09:00

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==26.0.1 || $(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Create the virtualenv and install the project with its pinned dependencies

.PHONY: run
run: $(STAMP) ## Migrate the SQLite database, load reference and demo data, serve on 127.0.0.1:8000
	MYNAPOINT_CLOCK_START=$${MYNAPOINT_CLOCK_START:-$(DEMO_CLOCK_START)} MYNAPOINT_DEMO=$${MYNAPOINT_DEMO:-true} \
		MYNAPOINT_INPROCESS_WORKER=$${MYNAPOINT_INPROCESS_WORKER:-true} \
		$(BIN)/mynapoint serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

.PHONY: test
test: $(STAMP) ## Run the whole test suite (PostgreSQL too when MYNAPOINT_TEST_DATABASE_URL is set)
	$(BIN)/pytest -n 2 -q

.PHONY: lint
lint: $(STAMP) ## ruff, mypy (strict) and the import-linter layer contracts
	$(BIN)/ruff check src tests bench reliability
	$(BIN)/ruff format --check src tests bench reliability
	$(BIN)/mypy
	MYPYPATH=bench $(BIN)/mypy -p reliability
	$(BIN)/lint-imports

.PHONY: migrations-check
migrations-check: $(STAMP) ## Check that the migrations match the table definitions (alembic check)
	$(BIN)/python -m mynapoint.db.check

.PHONY: check
check: lint migrations-check test ## Everything CI checks: lint, types, layers, migrations, tests

.PHONY: format
format: $(STAMP) ## Format and auto-fix the code
	$(BIN)/ruff format src tests bench reliability
	$(BIN)/ruff check --fix src tests bench reliability

.PHONY: messages
messages: $(STAMP) ## List page texts without an English translation, as .po entries to fill in
	$(BIN)/python -m mynapoint.web.catalogs en

.PHONY: bench
bench: bench-engine bench-intake bench-api ## Run the benchmarks bench-engine, bench-intake and bench-api (bench-scale apart: it takes hours)

.PHONY: bench-engine
bench-engine: $(STAMP) ## Points engine throughput (events/s) through the simulate path
	$(BIN)/python bench/engine.py

.PHONY: bench-intake
bench-intake: $(STAMP) ## Event file intake through the job queue with 1, 2 and 4 workers against storage alone and raw COPY (~10 min; ARGS="--workers 1,2"; MYNAPOINT_BENCH_DATABASE_URL)
	$(BIN)/python bench/intake.py $(ARGS)

.PHONY: bench-replay
bench-replay: $(STAMP) ## The policy lab's replay of 10^6 generated persons (after bench-scale built them), its samples, against the engine alone (ARGS="--processes 1,2"; MYNAPOINT_BENCH_REPLAY_URL)
	MYPYPATH=bench $(BIN)/python bench/replay.py $(ARGS)

.PHONY: bench-scale
bench-scale: $(STAMP) ## Cost at 10^5, 10^6 and 10^7 generated persons: intake, GET /me, grant pull, settlement, 10M-line ingest memory, the statistics overview and its page (hours; ARGS="--sizes 100000 --no-memory"; MYNAPOINT_BENCH_DATABASE_URL)
	$(BIN)/python bench/scale.py $(ARGS)

.PHONY: bench-api
bench-api: $(STAMP) ## The HTTP API under load on PostgreSQL against a trivial endpoint, with an overload run (~7 min; ARGS=--quick; MYNAPOINT_BENCH_DATABASE_URL)
	$(BIN)/python bench/api.py $(ARGS)

.PHONY: bench-forecast
bench-forecast: $(STAMP) ## The budget forecast's backtests on the demo's generated history (~20 s; ARGS="--window 14 --window 28")
	$(BIN)/python bench/forecast_backtest.py $(ARGS)

.PHONY: reliability
reliability: $(STAMP) ## Crash, PostgreSQL-restart and concurrency runs on a scratch cluster (~10 min; ARGS=--quick)
	$(BIN)/python -m reliability.run $(ARGS)

.PHONY: clean
clean: ## Remove the virtualenv, caches and the local database
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis

VENDOR := src/mynapoint/web/static/vendor
SWAGGER_UI := swagger-ui-dist@5.35.0
HTMX := htmx.org@2.0.11
AXE := axe-core@4.14.1

.PHONY: vendor
vendor: ## Refresh the pinned front-end assets from the npm registry (they are committed; no CDN)
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/swagger-ui $(VENDOR)/htmx $(VENDOR)/axe-core
	tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent $(SWAGGER_UI) $(HTMX) $(AXE) >/dev/null \
		&& for f in *.tgz; do mkdir -p "$${f%.tgz}" && tar -xzf "$$f" -C "$${f%.tgz}"; done \
		&& cp swagger-ui-dist-*/package/{swagger-ui-bundle.js,swagger-ui.css,favicon-32x32.png,LICENSE} $(CURDIR)/$(VENDOR)/swagger-ui/ \
		&& cp htmx.org-*/package/dist/htmx.min.js htmx.org-*/package/LICENSE $(CURDIR)/$(VENDOR)/htmx/ \
		&& cp axe-core-*/package/{axe.min.js,LICENSE} $(CURDIR)/$(VENDOR)/axe-core/ \
		&& rm -rf $$tmp
	printf '%s\n' $(SWAGGER_UI) $(HTMX) $(AXE) > $(VENDOR)/VERSIONS
	cd $(VENDOR) && find . -type f ! -name SHA256SUMS | sort | xargs sha256sum > SHA256SUMS
