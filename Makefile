# Every target bootstraps .venv from pyproject.toml on first use (and again when it changes).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install serve test lint format eval eval-extraction calibrate bench fuzz load clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## serve: create the database with the seed quotes on first run, then serve on 127.0.0.1:8000
serve: $(STAMP)
	$(BIN)/quotecheck init
	$(BIN)/gunicorn --config docker/gunicorn.conf.py --bind $(HOST):$(PORT) 'api:create_app()'

## test: lint, type-check and run the test suite
test: lint
	bash .ci/services
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy quotes_db api
	$(BIN)/hadolint docker/Dockerfile

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## eval: the development evaluation set through the same code path as POST /v1/verify, on a
## fresh SQLite file, or on DATABASE_URL (e.g. make eval DATABASE_URL=postgresql://...)
eval: $(STAMP)
	$(BIN)/python -m bench.eval $(if $(DATABASE_URL),--database-url '$(DATABASE_URL)') $(EVAL_ARGS)

## eval-extraction: quote extraction and speaker attribution on the annotated articles
eval-extraction: $(STAMP)
	$(BIN)/python -m bench.eval_extraction

## calibrate: refit quotes_db/calibration.json on the even half of the development queries
calibrate: $(STAMP)
	$(BIN)/python -m bench.calibrate

## bench: stores of 10k, 100k and 1M quotes (cached in .cache/bench/), latency, recall, HTTP,
## memory; e.g. make bench BENCH_ARGS="--sizes 10k,100k --queries 500"
bench: $(STAMP)
	$(BIN)/python -m bench.bench $(BENCH_ARGS)

## fuzz: schemathesis against /openapi.json of a live gunicorn, on every backend: no 5xx,
## every response as the spec says; e.g. make fuzz FUZZ_ARGS="--examples 300 --seed 7"
fuzz: $(STAMP)
	$(BIN)/python -m bench.fuzz $(FUZZ_ARGS)

## load: 50 clients for 60 s against gunicorn on the dev set: verify on every backend and
## /healthz, in one run; e.g. make load LOAD_SECONDS=20 LOAD_USERS=20
LOAD_SECONDS ?= 60
LOAD_USERS   ?= 50
load: $(STAMP)
	$(BIN)/python -m bench.load --seconds $(LOAD_SECONDS) --users $(LOAD_USERS) $(LOAD_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
