# familyscreen: `make demo` sets everything up and screens the sample; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AS_OF ?= 2025-09-30

.PHONY: setup demo test lint sample clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	PREFECT_HOME=$(CURDIR)/.prefect PREFECT_LOGGING_LEVEL=WARNING \
	  $(BIN)/familyscreen screen --extracts data/sample --as-of $(AS_OF) --out out
	@echo "Outputs are in $(CURDIR)/out (database: out/familyscreen.duckdb, report: out/report.html)"

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

# Regenerate the synthetic sample extracts and their truth (seeded, deterministic).
sample: $(STAMP)
	$(BIN)/python -m pipelines.sample --out data/sample --households 400 --seed 7

clean:
	rm -rf $(VENV) out .prefect .pytest_cache
