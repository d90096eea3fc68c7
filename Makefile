# drs-flows — the two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint clean bench torture

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip >/dev/null 2>&1 || true
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $(STAMP)
	@echo "installed: $(BIN)/drs"

run: install
	@$(BIN)/python -m cli.run

test: install lint
	$(BIN)/python -m pytest -q

# lint and format (ruff) and types (mypy; strict on models/domain): part of `make test`
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

torture: install
	DRS_TORTURE=large $(BIN)/python -m pytest tests/torture -q

# the national-scale benchmark (issue 14; not part of `make test`): `make bench ARGS=--small`
bench: install
	@$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench.run $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
