# The two commands: `make run` (local stack with demo data) and `make test` (every check).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
DYNAMODB_PORT ?= 8001
export PORT DYNAMODB_PORT

.PHONY: run test lint typecheck unit package bench load clean

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

unit: $(STAMP)
	$(BIN)/pytest -n 2

package: $(STAMP)
	bash infra/package.sh

bench: $(STAMP)
	$(BIN)/python -m bench.run

# locust against the local stack (starts one, or LOAD_TOKEN=... targets the one on PORT): docs/local-stack.md
load: $(STAMP)
	$(BIN)/python -m localdev.load

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .mypy_cache
