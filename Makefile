# Every target installs what it needs into .venv, so each works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint site-test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/mesh-migrate analyze fixtures/skyflow --out build/demo
	@echo "open file://$(CURDIR)/build/demo/site/index.html"

# TEST_ARGS narrows the run, e.g. TEST_ARGS='-m "not browser"' (CI runs those in site-test).
test: install
	$(BIN)/python -m pytest -q $(TEST_ARGS)

# Types (mypy, settings in setup.cfg [mypy]) and the import contracts between layers
# (lint-imports, setup.cfg [importlinter]). The tools come with the test extras; a venv
# made before they were added gets them here.
LINT_TOOLS := mypy import-linter types-PyYAML
lint: install
	@$(BIN)/python -c "import importlib.metadata as m; [m.version(p) for p in '$(LINT_TOOLS)'.split()]" 2>/dev/null || $(BIN)/pip install --quiet $(LINT_TOOLS)
	$(BIN)/mypy mesh_migrate
	$(BIN)/lint-imports

# The review site in headless Chromium; fails (never skips) when the browser is missing.
# Screenshots: build/site-shots/.
site-test: install
	MESH_SITE_BROWSER=required $(BIN)/python -m pytest -q -m browser tests/test_site_browser.py

# Monoliths of each size from fixtures/generate.py, in a temporary folder; each figure the
# median of REPEAT runs; about 2 minutes a run.
SIZES ?= 500,2000,5000
REPEAT ?= 3
bench: install
	$(BIN)/python tests/bench.py --sizes $(SIZES) --repeat $(REPEAT)

# Airflow in a venv of its own, never in .venv: DagBag beside mesh-migrate on one monolith.
AIRFLOW_VENV := .venv-airflow
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed
.PHONY: bench-airflow

$(AIRFLOW_STAMP): tests/airflow/requirements.txt
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/pip install --quiet --upgrade pip
	$(AIRFLOW_VENV)/bin/pip install --quiet -r tests/airflow/requirements.txt
	touch $(AIRFLOW_STAMP)

bench-airflow: install $(AIRFLOW_STAMP)
	$(BIN)/python tests/bench_airflow.py --airflow-python $(AIRFLOW_VENV)/bin/python --dags 2000

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

# Agreement with Airflow itself: apache-airflow 2.10 and 3.1, each in a venv of its own
# (.venv-airflow2, .venv-airflow3; never .venv), load fixtures/skyflow and a generated monolith
# with their DagBag; tests/airflow/verify.py compares the DAG dependencies they record with
# mesh-migrate's. A venv is rebuilt only when its requirements change. Report: build/verify-airflow.json.
.PHONY: verify-airflow e2e-airflow

.venv-airflow%/.installed: tests/airflow/requirements-%.txt tests/airflow/constraints-%.txt
	rm -rf .venv-airflow$*
	$(PYTHON) -m venv .venv-airflow$*
	.venv-airflow$*/bin/pip install --quiet --quiet --prefer-binary -r tests/airflow/requirements-$*.txt
	touch $@

verify-airflow: install .venv-airflow2/.installed .venv-airflow3/.installed
	$(BIN)/python tests/airflow/verify.py --airflow .venv-airflow2/bin/python --airflow .venv-airflow3/bin/python

# Real public repositories against what a reader finds in them (tests/corpus/*.yaml).
# CORPUS is a folder of plain trees <owner>_<name>, each at the commit its expectation names.
CORPUS ?= ../corpus
.PHONY: corpus
corpus: install
	$(BIN)/python tests/corpus_run.py $(CORPUS) $(NAMES)

# Runtime truth: a metadata database made by a real Airflow 2.10 and one by a real Airflow 3.1
# (tests/airflow/runtime_db.py: `airflow db migrate`, the fixture's DAGs parsed into it, runs
# recorded through Airflow's models), in sqlite files and in a throwaway PostgreSQL server on
# loopback (tests/airflow/postgres.py: started, loaded through both Airflows, stopped when the
# tests end); then the tests marked `runtime` against all four, which fail (never skip) when
# one is missing. PostgreSQL's server programs must be installed (initdb, pg_ctl).
.PHONY: runtime-db verify-runtime
RUNTIME_DB := build/runtime-airflow2.db build/runtime-airflow3.db

.SECONDARY: .venv-airflow2/.installed .venv-airflow3/.installed
build/runtime-airflow%.db: .venv-airflow%/.installed tests/airflow/runtime_db.py
	@mkdir -p build
	.venv-airflow$*/bin/python tests/airflow/runtime_db.py $@ > build/runtime-airflow$*.json

runtime-db: $(RUNTIME_DB)

verify-runtime: install runtime-db
	MESH_RUNTIME_DB=required $(BIN)/python tests/airflow/postgres.py --airflow .venv-airflow2/bin/python --airflow .venv-airflow3/bin/python \
		-- $(BIN)/python -m pytest -q -m runtime

# mesh-migrate's output against a real Airflow 2.10 webserver and a real Airflow 3.1 api-server on
# loopback (tests/airflow/e2e.py): a small before-repository (tests/airflow/e2e_repo) goes through
# `analyze --out` and `codemod --team downstream --apply`; the rewritten DAGs run in the venv of
# each version against team upstream's DAGs there, on 2.10 as the user of the generated access role
# (then 200 where the roles grant, 403 elsewhere). About 2 minutes. Report: build/e2e-airflow.json.
.PHONY: e2e-airflow
e2e-airflow: install .venv-airflow2/.installed .venv-airflow3/.installed
	$(BIN)/python tests/airflow/e2e.py --airflow2 .venv-airflow2/bin/python --airflow3 .venv-airflow3/bin/python
