# Every target works on a fresh machine with the Rust toolchain and Python 3.11 (with pip):
# everything Python-side is installed into .venv by `make venv`.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PYPROJECT := python/pyproject.toml
WHEEL_DIR := dist
export RUSTFLAGS ?= -Dwarnings
# Property tests draw from a fixed seed here so that a run of `make test` is reproducible; plain
# `cargo test` draws fresh cases every run (override with PROPTEST_RNG_SEED=... make test).
export PROPTEST_RNG_SEED ?= 20261123

.PHONY: help venv develop demo test test-rust test-python test-dask-oldest test-spark-oldest lint-python build-wheel bench clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sort \
		| awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}'

$(VENV)/.installed: $(PYPROJECT)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -c 'import tomllib, re; \
		extras = tomllib.load(open("$(PYPROJECT)", "rb"))["project"]["optional-dependencies"]; \
		reqs = [r for g in ("test", "plot", "dev") for r in extras[g] if not r.startswith("cx-metrics")]; \
		print("\n".join(reqs))' > $(VENV)/requirements-dev.txt
	$(PY) -m pip install --quiet -r $(VENV)/requirements-dev.txt
	touch $@

venv: $(VENV)/.installed ## Create .venv with maturin and the test, plot and dev dependencies

develop: venv ## Build the extension (release) and install it into .venv, editable
	cd python && VIRTUAL_ENV=$(abspath $(VENV)) $(abspath $(VENV))/bin/maturin develop --release --quiet

demo: develop ## Print an NPS / CSAT / CES report with intervals for the bundled sample survey
	$(PY) -m cx_metrics.demo

build-wheel: venv ## Build the release wheel and install it into .venv
	rm -rf $(WHEEL_DIR)
	cd python && $(abspath $(VENV))/bin/maturin build --release --quiet -i $(abspath $(PY)) -o $(abspath $(WHEEL_DIR))
	$(PY) -m pip install --quiet --force-reinstall --no-deps $(WHEEL_DIR)/*.whl

test-rust: ## cargo fmt --check, clippy -D warnings, the core's docs without broken links, cargo test of the workspace
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p cx-metrics
	cargo test --workspace

lint-python: venv ## ruff check, ruff format --check, mypy --strict on the typed usage file
	$(VENV)/bin/ruff check --config $(PYPROJECT) python benches/python scripts
	$(VENV)/bin/ruff format --config $(PYPROJECT) --check python benches/python scripts
	cd python && ../$(PY) -m mypy --strict tests/test_typed_usage.py

test-python: build-wheel ## pytest and stubtest against the installed wheel
	$(PY) -m pytest python/tests
	$(PY) -m mypy.stubtest cx_metrics._native

# The Dask tests once more with the oldest Dask of the range the `dask` extra declares (its lower
# bounds, read from pyproject.toml), in a virtualenv of their own.
OLDEST_DASK := .venv-dask-oldest
test-dask-oldest: build-wheel ## The Dask tests with the oldest Dask of the declared range
	rm -rf $(OLDEST_DASK)
	$(PYTHON) -m venv $(OLDEST_DASK)
	$(PY) -c 'import re, tomllib; \
		extras = tomllib.load(open("$(PYPROJECT)", "rb"))["project"]["optional-dependencies"]; \
		print("\n".join(re.sub(r">=([\w.]+),.*", r"==\1.*", r) for r in extras["dask"]))' > $(OLDEST_DASK)/oldest.txt
	$(OLDEST_DASK)/bin/pip install --quiet $(WHEEL_DIR)/*.whl pytest pandas pyarrow -r $(OLDEST_DASK)/oldest.txt
	$(OLDEST_DASK)/bin/python -m pytest -q -p no:cacheprovider python/tests/test_dask.py

OLDEST_SPARK := .venv-spark-oldest
test-spark-oldest: build-wheel ## The Spark tests with the oldest Spark of the declared range (and the pandas of its time)
	rm -rf $(OLDEST_SPARK)
	$(PYTHON) -m venv $(OLDEST_SPARK)
	$(PY) -c 'import re, tomllib; \
		extras = tomllib.load(open("$(PYPROJECT)", "rb"))["project"]["optional-dependencies"]; \
		print("\n".join(re.sub(r">=([\w.]+),.*", r"==\1.*", r) for r in extras["spark"] if r.startswith("pyspark")))' > $(OLDEST_SPARK)/oldest.txt
	$(OLDEST_SPARK)/bin/pip install --quiet $(WHEEL_DIR)/*.whl pytest "pandas<3" pyarrow -r $(OLDEST_SPARK)/oldest.txt
	$(OLDEST_SPARK)/bin/python -m pytest -q -p no:cacheprovider python/tests/test_spark.py

test: venv test-rust build-wheel test-python test-dask-oldest test-spark-oldest lint-python ## Everything CI checks (Rust, wheel, pytest, the oldest Dask and Spark, ruff, stubtest, mypy)
	@echo "make test: all checks passed"

bench: develop ## Time cx.nps (also by group), cx.driver_analysis, cohort tables and Kaplan-Meier against numpy, pandas, polars, statsmodels, pingouin, lifelines; peak memory
	$(PY) -c 'import tomllib; print("\n".join(tomllib.load(open("$(PYPROJECT)", "rb"))["project"]["optional-dependencies"]["bench"]))' > $(VENV)/requirements-bench.txt
	$(PY) -m pip install --quiet -r $(VENV)/requirements-bench.txt
	$(PY) benches/python/bench_nps.py
	$(PY) benches/python/bench_drivers.py
	$(PY) benches/python/bench_groups.py
	$(PY) benches/python/bench_cohorts.py
	$(PY) benches/python/bench_memory.py
	$(PY) benches/python/bench_survival.py
	$(PY) benches/python/bench_bgnbd.py

clean: ## Remove the venv, wheels and build products
	rm -rf $(VENV) $(OLDEST_DASK) $(OLDEST_SPARK) $(WHEEL_DIR) python/cx_metrics/*.so
