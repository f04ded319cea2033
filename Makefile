# The one task runner. `make help` lists the targets; CI runs `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Variables set on the command line (`make test PYTHON=python3.12`); `make help` lists each with the
# comment line just above it.
# The interpreter that creates the virtualenvs (3.11 or newer).
PYTHON ?= python3
# The spec that generate and check-generated read.
SPEC ?= openapi.yaml
# Extra arguments for the command of contract, contract-deployment, emulator and bench.
ARGS ?=
VENV := .venv
GEN_VENV := .venv-gen
BIN := $(CURDIR)/$(VENV)/bin
GEN_BIN := $(CURDIR)/$(GEN_VENV)/bin
# Hand-written code, for lint and type checks (generated/ is checked by check-generated and mypy).
SOURCES := spec overlays emulator tests contract_tests bench conftest.py

.PHONY: help venv generate generate-into check-generated lint format typecheck test test-fast contract \
	contract-deployment emulator bench clean

help: ## List the targets and the variables
	@echo "Targets:"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-20s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Variables (make TARGET NAME=value):"
	@awk '/^[A-Z_]+ \?=/ { value = $$0; sub(/^[A-Z_]+ \?= */, "", value); \
	    shown = (value == "" ? "empty" : (value ~ /\$$\(/ ? "computed" : value)); \
	    printf "  %-20s %s (default: %s)\n", $$1, comment, shown } \
	  { comment = ($$0 ~ /^# / ? substr($$0, 3) : "") }' $(MAKEFILE_LIST)

define require_python
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null || { \
	  echo "error: Python 3.11 or newer is needed; '$(PYTHON)' is $$($(PYTHON) --version 2>&1 || echo missing)." >&2; \
	  echo "       Run with another interpreter: make $@ PYTHON=/path/to/python3.11" >&2; exit 1; }
endef

# The project's virtualenv, rebuilt when the dependencies change. constraints.txt pins every
# package, transitive ones included, so that each machine gets the same environment.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(require_python)
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[all,dev]'
	@touch $@

# The generator lives in a virtualenv of its own, so that its pins (typer, httpx) never
# constrain the project's dependencies.
$(GEN_VENV)/.installed: requirements-generator.txt
	$(require_python)
	@[ -x $(GEN_BIN)/python ] || $(PYTHON) -m venv $(GEN_VENV)
	$(GEN_BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-generator.txt
	@touch $@

venv: $(VENV)/.installed ## Create or update the project's virtualenv (.venv)

# $(1): output package folder, $(2): spec. Deletes the folder first: the generator's --overwrite
# leaves stale files. The post-hooks (openapi-python-client.yaml) find the pinned ruff on PATH.
# generator-templates/ holds the templates that replace the generator's own (each says why).
run_generator = rm -rf "$(1)" && \
	PATH="$(GEN_BIN):$$PATH" $(GEN_BIN)/openapi-python-client generate --path "$(2)" --meta none \
	  --output-path "$(1)" --config openapi-python-client.yaml \
	  --custom-template-path generator-templates --fail-on-warning >/dev/null && \
	rm -rf "$(1)/.ruff_cache"

generate: $(GEN_VENV)/.installed ## Recreate generated/direct_access_api from openapi.yaml
	$(call run_generator,generated/direct_access_api,$(SPEC))
	@echo "generated/direct_access_api recreated from $(SPEC)"

# Needs .venv-gen and does not make it, so that bench/codegen.py's timing never holds an install.
generate-into: ## Only the generator command of generate, into OUT=folder (what bench/ times)
	@test -n "$(OUT)" || { echo "error: make generate-into OUT=<folder>" >&2; exit 2; }
	@$(call run_generator,$(OUT),$(SPEC))

check-generated: $(GEN_VENV)/.installed ## Fail when generated/ differs from what openapi.yaml produces
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(call run_generator,$$tmp/direct_access_api,$(SPEC)); \
	if ! diff -r -q -x __pycache__ "$$tmp/direct_access_api" generated/direct_access_api; then \
	  echo "error: generated/direct_access_api differs from what $(SPEC) produces (files above); run 'make generate' and commit." >&2; exit 1; fi; \
	untracked=$$(git ls-files --others --exclude-standard -- generated/ 2>/dev/null || true); \
	if [ -n "$$untracked" ]; then \
	  echo "error: generated files that git does not know yet (new files the spec produced):" >&2; \
	  printf '  %s\n' $$untracked >&2; \
	  echo "       Run: git add generated/   (then commit them with the spec)" >&2; exit 1; fi; \
	echo "generated/ matches $(SPEC)"

lint: $(VENV)/.installed ## ruff lint and format check of the hand-written code
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)

format: $(VENV)/.installed ## Format and fix the hand-written code
	$(BIN)/ruff format $(SOURCES)
	$(BIN)/ruff check --fix $(SOURCES)

typecheck: $(VENV)/.installed ## mypy --strict on hand-written and generated code
	$(BIN)/mypy

test: lint typecheck check-generated ## Everything CI checks: lint, types, generated code, all tests, coverage
	$(BIN)/pytest -n 2 --dist loadgroup --cov --cov-report=term
	$(CONTRACT) -n 25

test-fast: $(VENV)/.installed ## Only the tests, no lint or type checks
	$(BIN)/pytest

# The contract suite: `schemathesis run openapi.yaml` on schemathesis' own engine, with the suite's
# hooks (contract_tests/hooks.py) and schemathesis.toml. Reports: reports/contract/.
CONTRACT := $(BIN)/python -m contract_tests
# Cases per operation in the fuzzing phase (schemathesis' -n).
CONTRACT_EXAMPLES ?= 500
# The 5,000-case floor holds for the default budget; a smaller CONTRACT_EXAMPLES is a quick run.
CONTRACT_MIN_CASES ?= $(if $(filter 500,$(CONTRACT_EXAMPLES)),5000,0)
# A baseline file of accepted departures (contract_tests/baselines/), for contract-deployment.
BASELINE ?=

contract: $(VENV)/.installed ## The contract suite against the emulator (>= 5,000 cases)
	$(CONTRACT) -n $(CONTRACT_EXAMPLES) --min-cases $(CONTRACT_MIN_CASES) $(ARGS)

contract-deployment: $(VENV)/.installed ## The contract suite against the deployment in DIRECT_ACCESS_* (BASELINE=file)
	$(CONTRACT) --deployment -n $(CONTRACT_EXAMPLES) --max-jobs 200 \
	  $(if $(BASELINE),--baseline $(BASELINE)) $(ARGS)

emulator: $(VENV)/.installed ## Run the emulator with local storage (state in .emulator/)
	$(BIN)/python -m direct_access_emulator --with-storage --data-dir .emulator \
	  --env-file .emulator/env $(ARGS)

bench: $(VENV)/.installed $(GEN_VENV)/.installed ## Benchmarks: figures and ratios against same-run baselines (reports/bench/)
	$(BIN)/python -m bench $(ARGS)

clean: ## Remove virtualenvs, caches and reports
	rm -rf $(VENV) $(GEN_VENV) .ruff_cache .mypy_cache .pytest_cache .hypothesis .schemathesis reports \
	  .coverage htmlcov
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
