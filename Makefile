# Two commands: `make run` and `make test` each do the whole set-up first. `make run` installs
# only what purlsim needs to run (its dependencies, no extras); `make test` adds the dev extras
# (pytest, hypothesis, dask, playwright, ...).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed-dev

.PHONY: run test lint setup bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUN_STAMP)

setup: $(STAMP)

# `make run` ends with the HTML report of the shipped baseline comparison: the 2025 replay (the
# reference) against its two sourcing policies, factory only and allied stocks first, and its
# Italian route (route_italy: the report sets it side by side with the North Sea route).
REPORT_SCENARIOS := scenarios/baseline_2025.yaml scenarios/factory_only.yaml scenarios/stockpile_first.yaml \
	scenarios/route_italy.yaml
REPORT_REPS ?= 100

run: $(RUN_STAMP)
	$(BIN)/purlsim run scenarios/baseline.yaml --reps 20 --out out/baseline --force
	$(BIN)/purlsim report $(REPORT_SCENARIOS) --reps $(REPORT_REPS) --out out/report.html --quiet
	@echo "Report: $(CURDIR)/out/report.html (one self-contained file: open it in any browser)"

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

# ruff (rules and format) on the code; mypy on sim/, with its settings in pyproject.toml
lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks
	$(BIN)/ruff format --check sim tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache
