# The two commands: `make run` (local stack with demo data) and `make test` (every check).
# Deploying: `make package STAGE=...`, `make deploy STAGE=...` (prod asks, or CONFIRM=yes), `make seed STAGE=sandbox`
# (docs/operations.md).
#
# One Python everywhere: the venv, CI and the Lambda runtime (chalice takes the runtime from the Python it runs on).
PYTHON_VERSION := 3.13
PYENV_ROOT ?= $(HOME)/.pyenv
PYTHON ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/$(PYTHON_VERSION).*/bin/python$(PYTHON_VERSION)))),python$(PYTHON_VERSION))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
DYNAMODB_PORT ?= 8001
# Only a STAGE given on the command line counts: a STAGE variable in the environment (the app's own setting) must
# not choose what gets packaged or deployed.
STAGE := $(if $(filter command line,$(origin STAGE)),$(STAGE),dev)
export PORT DYNAMODB_PORT
IS_VENV_PYTHON := $(BIN)/python -c 'import sys; sys.exit(sys.version_info[:2] != tuple(map(int, "$(PYTHON_VERSION)".split("."))))'

.PHONY: run test lint typecheck unit package deploy seed bench bench-import load clean browser openapi

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml Makefile
	@$(IS_VENV_PYTHON) 2>/dev/null || { test ! -d $(VENV) || echo "$(VENV) is not Python $(PYTHON_VERSION): rebuilding it"; rm -rf $(VENV); }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(IS_VENV_PYTHON) || { echo "need Python $(PYTHON_VERSION) (PYTHON=$(PYTHON))" >&2; exit 1; }
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m localdev

test: lint typecheck package unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=$(CURDIR) $(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy --strict chalicelib app.py admin localdev
	$(BIN)/mypy bench tools

unit: $(STAMP) browser
	$(BIN)/pytest -n 2

# Debian's chromium and chromedriver for tests/test_docs_browser.py, installed when missing (CI runs as root on
# Debian). Without them (no apt-get, not root) the browser test fails in CI and is skipped elsewhere.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "make browser: installing chromium and chromium-driver (apt-get)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver >/dev/null; \
	else \
		echo "make browser: /usr/bin/chromium or /usr/bin/chromedriver is missing and cannot be installed here"; \
	fi

# Rebuild the served OpenAPI documents (chalicelib/openapi/) from ../shared/reference.
openapi: $(STAMP)
	$(BIN)/python -m tools.build_openapi

package: $(STAMP)
	bash infra/package.sh $(STAGE)

deploy: $(STAMP)
	$(BIN)/python -m tools.deploy --stage $(STAGE) $(if $(ALARM_EMAIL),--alarm-email $(ALARM_EMAIL))

seed: $(STAMP)
	$(BIN)/python -m localdev.seed --stage $(STAGE)

bench-import: package
	$(BIN)/python -m bench.package_import

bench: bench-import
	$(BIN)/python -m bench.run

# locust against the local stack (starts one, or LOAD_TOKEN=... targets the one on PORT): docs/local-stack.md
load: $(STAMP)
	$(BIN)/python -m localdev.load

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .mypy_cache
