# woonvoorraad — two commands do all set-up on a fresh machine:
#   make demo   create .venv if missing, install, build the synthetic demo region
#   make test   create .venv if missing, install with test extras, run the test suite
# and for the analyst:
#   make lab    start JupyterLab on notebooks/ with the project's kernel (installed by make install)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# test processes (pytest-xdist); 2 suits the 2-core CI machine, 0 runs in one process
TEST_WORKERS ?= 2
# extra options for JupyterLab, e.g. LAB_ARGS='--no-browser --port 8890'
LAB_ARGS ?=

.PHONY: demo test test-fast lint install clean-demo lab

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name woonvoorraad --display-name "woonvoorraad" >/dev/null
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/woonvoorraad demo

test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not slow" $(PYTEST_ARGS)

lab: install
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

lint: install
	$(BIN)/ruff check src tests benchmarks

clean-demo:
	rm -rf data/raw/demo data/processed/demo reports/demo
