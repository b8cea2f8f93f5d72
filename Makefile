# Two commands for a fresh clone:
#   make demo   - set up and run the local end-to-end scenario (emulators + stand-in cluster + services)
#   make test   - set up and run the whole test suite (lint, types, tests, terraform checks, checkov)
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
EXTRAS ?= healer,chatops,model,dataflow,demo,dev
BIN := $(VENV)/bin

.PHONY: setup demo demo-dry-run test lint typecheck pytest checkov checkov-env system-deps bench bench-detector clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

setup: $(BIN)/.installed

# System packages the tests use when present: Chromium renders the HTML reports in a real browser.
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium for the report rendering tests"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "warning: chromium could not be installed; the browser rendering tests will be skipped"; \
	fi
	@command -v gcloud >/dev/null 2>&1 || echo "warning: gcloud is missing; emulator tests will skip (fail under CI)"

demo: setup
	$(BIN)/python -m local_scenario --out out/demo

demo-dry-run: setup
	$(BIN)/python -m local_scenario --out out/demo-dry-run --dry-run

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

checkov:
	bash scripts/checkov.sh

pytest: setup
	$(BIN)/pytest

# checkov in its own environment: its pins fight the app's packages and it overwrites python-hcl2.
.venv-checkov/bin/checkov:
	$(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet --upgrade pip
	.venv-checkov/bin/pip install --quiet "checkov>=3.2,<4"

checkov-env: .venv-checkov/bin/checkov

test: setup system-deps checkov-env lint typecheck
	$(BIN)/pytest

bench: setup
	@command -v wrk >/dev/null 2>&1 || { [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null)); } || \
		echo "note: wrk not installed; the throughput bench uses its Python clients only"
	$(BIN)/python bench/healer_cold_start.py
	$(BIN)/python bench/healer_throughput.py
	$(BIN)/python bench/healer_storm.py
	$(BIN)/python bench/chatops_delivery.py

# The streaming detector: throughput on one core, and the NAB-style evaluation
# (../shared/data/nab-aws when present; bench/nab_synthetic.py needs no data).
bench-detector: setup
	$(BIN)/python bench/detector_throughput.py
	$(BIN)/python bench/nab_eval.py
	$(BIN)/python bench/nab_synthetic.py

clean:
	rm -rf $(VENV) .venv-checkov out .pytest_cache .mypy_cache .ruff_cache
