# Every target bootstraps .venv from pyproject.toml on first use (and again when it changes).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install serve test lint format eval bench clean

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
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy quotes_db api

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## eval: the development evaluation set through the same code path as POST /v1/verify
eval: $(STAMP)
	$(BIN)/python -m bench.eval

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
