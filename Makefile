# Set-up is part of every target: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo e2e test lint typecheck contracts unit bench bench-service clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/sentra demo

# the real loop behind each load balancer (needs nginx, haproxy, prometheus; envoy from PyPI)
e2e: $(STAMP)
	for router in nginx haproxy envoy; do \
		$(BIN)/sentra demo --real --router $$router --out benchmarks/results/real_loop || exit 1; \
	done

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest -q tests
	$(BIN)/pytest -q --doctest-modules --ignore=sentra_ml/store/migrations sentra_ml adapters/sentra_adapters training/sentra_training

test: lint typecheck contracts unit

bench: $(STAMP)
	$(BIN)/python benchmarks/detection.py

bench-service: $(STAMP)
	$(BIN)/python benchmarks/service.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
