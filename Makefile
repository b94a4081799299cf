# Two commands do all the set-up (see README.md):
#   make course   set up, then open the course in JupyterLab
#   make test     set up, then run the whole test suite (what CI runs)
# Both build a virtual environment in .venv/ with the Python found as $(PYTHON) (3.10 or newer).

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
# nbgrader starts `alembic` by name, so the environment's bin/ must come first on PATH.
export PATH := $(BIN):$(PATH)
PYTEST_ARGS ?=

.PHONY: course test setup setup-test release clean help
.DEFAULT_GOAL := help

help:
	@echo "make course   set up and open the course in JupyterLab"
	@echo "make test     set up and run the whole test suite"
	@echo "make release  regenerate exercises/ from solutions/ (instructors)"
	@echo "make clean    remove the environment and an instructor's local grading state"

$(VENV)/.python-ok:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "This course needs Python 3.10 or newer; found " + sys.version.split()[0] + ". Install a newer Python, or run: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	@touch $@

$(VENV)/.installed: $(VENV)/.python-ok pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

# Jupyter refuses to start as root unless told to (containers and cloud shells often run as root).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

course: setup
	$(BIN)/jupyter lab $(ALLOW_ROOT) --notebook-dir=. course/00_start_here.ipynb

test: setup-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

release: setup
	$(BIN)/mlse release

clean:
	rm -rf $(VENV) gradebook.db submitted autograded feedback .mlse
