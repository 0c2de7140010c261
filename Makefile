# The two commands: `make run` (local stack with demo data) and `make test` (every check).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
DYNAMODB_PORT ?= 8001
export PORT DYNAMODB_PORT

.PHONY: run test lint typecheck unit package bench clean browser openapi

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-deps -e .
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m localdev

test: lint typecheck unit package

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
	bash infra/package.sh

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .mypy_cache
