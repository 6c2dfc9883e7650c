# dagan: common tasks. Everything runs from the repository's virtual environment (.venv).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.dagan-installed
# Dagster's run history: `make demo` writes it, `make ui` shows it (the demo's assets and plots).
UI_HOME ?= $(CURDIR)/.dagster_home

# `make bench` runs this (override: make bench BENCH_ARGS="--dataset credit --max-rows 40000 ...")
BENCH_ARGS ?= --dataset adult --variants dagan mdgan swift fedsyn local centralized ctgan \
	--seeds 0 1 2 --epochs 30 --curve-every 5 --jobs 2 --device cpu
BENCH_STAMP := $(VENV)/.dagan-bench-installed

.PHONY: venv demo demo-federated test ui sql lint bench

venv: $(STAMP)

# torch first, pinned: the CPU wheel is available locally, an unpinned torch would pull CUDA wheels.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install torch==2.13.0
	$(VENV)/bin/pip install -e ".[dev]"
	touch $(STAMP)

# make demo THREADS=2    CPU threads of training, sampling and evaluation (default: DAGAN_THREADS,
#                        else min(cores - 1, 4))
demo: venv
	$(PY) scripts/run_demo.py --dagster-home $(UI_HOME) $${THREADS:+--threads $$THREADS}

# every demo party in a process of its own, reached over gRPC with mutual TLS (127.0.0.1)
demo-federated: venv
	$(PY) -m pipelines.federated_demo

test: venv
	$(PY) -m pytest -q

# the benchmark's extra (the ctgan package) on top of the venv, then the default benchmark run
$(BENCH_STAMP): $(STAMP)
	$(VENV)/bin/pip install -e ".[bench]"
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(PY) scripts/benchmark.py $(BENCH_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

ui: venv
	mkdir -p $(UI_HOME)
	test -f $(UI_HOME)/dagster.yaml || printf 'telemetry:\n  enabled: false\n' > $(UI_HOME)/dagster.yaml
	DAGSTER_HOME=$(UI_HOME) setsid env --default-signal=INT,TERM $(VENV)/bin/dagster dev -w workspace.yaml

# make sql                      interactive read-only session
# make sql Q="SELECT ..."        run the statement(s) and exit (also: make sql < queries.sql)
sql: venv
	$(PY) scripts/sql_shell.py $${Q:+-c "$$Q"}
