# dagan: common tasks. Everything runs from the repository's virtual environment (.venv).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.dagan-installed
# Dagster's run history for `make ui` (the demo uses a fresh temporary one).
UI_HOME ?= $(CURDIR)/.dagster_home

.PHONY: venv demo test ui sql lint

venv: $(STAMP)

# torch first, pinned: the CPU wheel is available locally, an unpinned torch would pull CUDA wheels.
$(STAMP):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install torch==2.13.0
	$(VENV)/bin/pip install -e ".[dev]"
	touch $(STAMP)

demo:
	$(PY) scripts/run_demo.py

test:
	$(PY) -m pytest -q

lint:
	$(VENV)/bin/ruff check .

ui:
	mkdir -p $(UI_HOME)
	test -f $(UI_HOME)/dagster.yaml || printf 'telemetry:\n  enabled: false\n' > $(UI_HOME)/dagster.yaml
	DAGSTER_HOME=$(UI_HOME) setsid env --default-signal=INT,TERM $(VENV)/bin/dagster dev -w workspace.yaml

sql:
	$(PY) scripts/sql_shell.py
