# Every target installs what it needs into .venv, so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/mesh-migrate analyze fixtures/skyflow

test: install
	$(BIN)/python -m pytest -q

bench: install
	$(BIN)/python -m mesh_migrate.bench --sizes 500,2000

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
