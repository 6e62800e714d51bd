# familyscreen: `make demo` sets everything up and screens the sample; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
AS_OF ?= 2025-09-30
CLAIMS_AS_OF ?= 2026-07-31
RUN := PREFECT_HOME=$(CURDIR)/.prefect $(BIN)/familyscreen
# uv installs exactly the versions of uv.lock; it is itself installed with pip, pinned.
UV_VERSION := 0.13.9
UV := UV_PYTHON_DOWNLOADS=never $(BIN)/uv

.PHONY: setup demo test lint lock sample serve bench bench-validate febrl clean

setup: $(STAMP)
	@command -v chromium >/dev/null || echo "No chromium: the report's browser test will skip" \
	  "(Debian/Ubuntu: sudo apt-get install -y chromium)."

# A virtual environment of this Python (3.11) holding the locked versions of every
# dependency and the project itself, editable. `uv sync --locked` refuses a uv.lock that
# no longer matches pyproject.toml: `make lock` first.
$(STAMP): pyproject.toml uv.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV) sync --locked --inexact --extra dev --quiet
	touch $(STAMP)

# Resolve pyproject.toml's ranges afresh to the newest versions they allow, into uv.lock
# (commit it; `make setup` then installs exactly those).
lock:
	test -x $(BIN)/uv || { $(PYTHON) -m venv $(VENV) && \
	  $(BIN)/python -m pip install --quiet uv==$(UV_VERSION); }
	$(UV) lock --upgrade

demo: $(STAMP)
	$(RUN) screen --extracts data/sample --as-of $(AS_OF) --out out
	$(RUN) claims --extracts data/sample_claims --as-of $(CLAIMS_AS_OF) --out out
	@echo "Outputs are in $(CURDIR)/out: cohort_families.csv, cohort_members.csv, rejects.csv,"
	@echo "  report.html, run_manifest.json; pbr_candidates.csv, claims_report.html, evidence/,"
	@echo "  claims_rejects.csv, claims_manifest.json;"
	@echo "  database out/familyscreen.duckdb"

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadscope

# A local Prefect server, work pool, deployments and worker (Ctrl-C stops them).
serve: $(STAMP)
	$(BIN)/python -m pipelines.serve

lint: $(STAMP)
	$(BIN)/ruff check .

# Regenerate the synthetic sample extracts and their truth (seeded, deterministic); the
# claims period attaches families of a screening of the sample, so it is screened first.
sample: $(STAMP)
	rm -rf data/sample data/sample_claims .sample-screen
	$(BIN)/python -m synthetic.borough --out data/sample --households 400 --seed 7
	$(RUN) screen --extracts data/sample --as-of $(AS_OF) --out .sample-screen
	$(BIN)/python -m synthetic.claims --extracts data/sample \
	  --db .sample-screen/familyscreen.duckdb --out data/sample_claims --as-of $(CLAIMS_AS_OF)
	rm -rf .sample-screen

# Scale benchmark: screens generated boroughs (50,000 and 1,000,000 households by default;
# BENCH_SIZES="50000 200000" to choose), each BENCH_RUNS times, and writes
# bench/results.md (the median run, and the spread). Extracts are kept in bench/work/ so
# a second run skips generation. Then the public FEBRL benchmarks (make febrl).
BENCH_SIZES ?= 50000 1000000
BENCH_RUNS ?= 3
bench: $(STAMP)
	$(BIN)/python -m bench.scale --sizes $(BENCH_SIZES) --runs $(BENCH_RUNS)
	$(BIN)/python -m bench.febrl --write

# Validation of the school census through pandas (as the pipeline) and through pandera's
# Ibis backend in DuckDB, on a run database after its load step (DB=...).
DB ?= bench/work/out-1000000/familyscreen.duckdb
bench-validate: $(STAMP)
	$(UV) sync --locked --inexact --extra dev --extra ibis --quiet
	$(BIN)/python -m bench.validate_in_duckdb $(DB)

# Linkage through the pipeline on the public FEBRL1-4 benchmarks, recast as council
# extracts with no shared identifier and no postcode (precision, recall, F1, blocking recall).
febrl: $(STAMP)
	$(BIN)/python -m bench.febrl --write

clean:
	rm -rf $(VENV) out serve .prefect .pytest_cache bench/work
