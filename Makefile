# Two commands do all the set-up (see README.md):
#   make course   set up, copy the lessons and exercises to your own my-work/ (once), then open your lesson 0
#   make test     set up, then run the whole test suite (what CI runs)
#   make setup    instructors: only the environment (mlse, nbgrader), no JupyterLab, no test tools
#   make test-fast  the inner loop: unit tests and one lesson, in under a minute (docs/testing.md)
#   make site     the course as a static website in build/site/ (site/build.py)
# Both build a virtual environment in .venv/ with the Python found as $(PYTHON) (3.10 or newer).

PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
# nbgrader starts `alembic` by name, so the environment's bin/ must come first on PATH.
export PATH := $(BIN):$(PATH)
PYTEST_ARGS ?=

.PHONY: course test test-fast setup setup-test setup-site site workspace release clean delete-grading-state help
.DEFAULT_GOAL := help

help:
	@echo "make course   set up, make your workspace my-work/ and open your copy of the course in JupyterLab"
	@echo "make workspace  copy lessons and exercises that are not in my-work/ yet (never overwrites your work)"
	@echo "make test     set up and run the whole test suite"
	@echo "make test-fast  unit tests and one lesson (the inner loop; make test before you push)"
	@echo "make site     build the course's website into build/site/ (open build/site/index.html)"
	@echo "make setup    instructors: set up the tools only (mlse, nbgrader) in .venv/, without opening JupyterLab"
	@echo "make release  regenerate exercises/ from solutions/ (instructors)"
	@echo "make clean    remove the environment (.venv/) and build outputs, never the grading state (make setup rebuilds it)"
	@echo "make delete-grading-state CONFIRM=yes"
	@echo "              DELETE the class's grading state: gradebook.db, submitted/, autograded/,"
	@echo "              feedback/, .mlse/ (without CONFIRM=yes it only lists what it would delete)"

$(VENV)/.python-ok:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "This course needs Python 3.10 or newer; found " + sys.version.split()[0] + ". Install a newer Python, or run: make PYTHON=python3.12 ...")'
	$(PYTHON) -m venv $(VENV)
	@touch $@

$(VENV)/.installed: $(VENV)/.python-ok pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

# One pip run for the course and its test tools (a second run would resolve everything again).
# The test extra includes the site extra (Sphinx, myst-nb, the book theme).
$(VENV)/.installed-test: $(VENV)/.python-ok pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(VENV)/.installed $(VENV)/.installed-site $@

$(VENV)/.installed-site: $(VENV)/.python-ok pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[site]"
	@touch $(VENV)/.installed $@

# axe-core (npm), which the website's browser test injects into every page: exactly the version
# in tests/package-lock.json. Without npm the test says how to get it (and fails under CI).
tests/node_modules/.installed: tests/package.json tests/package-lock.json
	@if command -v npm >/dev/null; then cd tests && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm not found: the website's accessibility test needs it (sudo apt-get install npm)"; fi

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test tests/node_modules/.installed
setup-site: $(VENV)/.installed-site

# The website, from the course as committed (no lesson runs unless it has no outputs): README.md.
site: setup-site
	$(BIN)/python site/build.py

# Jupyter refuses to start as root unless told to (containers and cloud shells often run as root).
ALLOW_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

# A self-paced learner's own copies: the lessons in my-work/lessons/, the exercises in
# my-work/<assignment>/. Git ignores my-work/, and nothing here overwrites a file in it, so the
# learner's answers never conflict with a course update (git pull, then make workspace again: new
# lessons and exercises are copied, the ones already there are kept as they are).
# course/ and exercises/ stay exactly what the course ships (make test checks exercises/).
WORK := my-work

workspace:
	@for notebook in course/*.ipynb exercises/*/*.ipynb exercises/*/rubric.md; do \
		case "$$notebook" in course/*) mine="$(WORK)/lessons/$${notebook#course/}";; \
		                     *) mine="$(WORK)/$${notebook#exercises/}";; esac; \
		if [ ! -e "$$mine" ]; then mkdir -p "$$(dirname "$$mine")" && cp "$$notebook" "$$mine" && echo "new in $(WORK)/: $${mine#$(WORK)/}"; fi; \
	done

# JupyterLab opens at the course folder on the learner's own copy of lesson 0.
course: setup workspace
	$(BIN)/jupyter lab $(ALLOW_ROOT) --notebook-dir=. $(WORK)/lessons/00_start_here.ipynb

test: setup-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: setup-test
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

release: setup
	$(BIN)/mlse release

# The environment and build outputs only: safe to run mid-term (a broken .venv: make clean, make
# setup). The class's grades are never removed here; that is delete-grading-state, below.
clean:
	rm -rf $(VENV) build tests/node_modules

# A term's grading state: the gradebook, every submission, graded copy and feedback, and mlse's
# records (.mlse/: versions, hand-grade history, logs). Nothing brings it back, so it is deleted
# only when asked by name with CONFIRM=yes; otherwise this lists what exists and stops.
GRADING_STATE := gradebook.db submitted autograded feedback .mlse

delete-grading-state:
	@present="$$(for f in $(GRADING_STATE); do [ -e "$$f" ] && printf '%s ' "$$f"; done)"; \
	if [ -z "$$present" ]; then echo "No grading state here: nothing to delete."; exit 0; fi; \
	if [ "$(CONFIRM)" != "yes" ]; then \
		echo "This would delete the class's grading state, which nothing brings back: $$present"; \
		echo "Nothing was deleted. To delete it: make delete-grading-state CONFIRM=yes"; exit 1; fi; \
	rm -rf $$present && echo "Deleted: $$present"
