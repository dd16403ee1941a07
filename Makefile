# Two commands (see README.md):
#   make book   -- build the book into _build/html (executes every notebook)
#   make test   -- lint, unit tests, the exercise notebooks under nbval, book build with warnings as errors
#                  (the build executes every chapter and fails on any error: chapters run once, not twice)
# Each creates or updates the local virtual environment .venv on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The local mirror of the Omniglot zips, when ../shared sits beside the clone (as in CI).
MLBOOK_DATA ?= $(if $(wildcard ../shared/data/omniglot/MD5SUMS),$(abspath ../shared/data/omniglot),)
export MLBOOK_DATA
# Notebooks and tests must not fight over the two cores.
export OMP_NUM_THREADS ?= 2
export PYDEVD_DISABLE_FILE_VALIDATION = 1

.PHONY: book test lint unit notebooks build-strict env clean

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --keep-going
	@echo "Open _build/html/index.html"

test: $(STAMP)
	@$(BIN)/python tools/stages.py \
		"lint=$(BIN)/ruff check mlbook tests benchmarks tools exercises" \
		"unit tests=$(BIN)/python -m pytest tests -q -n 2 -p randomly --randomly-dont-reset-seed" \
		"exercise notebooks (nbval)=$(BIN)/python -m pytest --nbval-lax --nbval-current-env -q -n 2 --dist loadfile exercises" \
		"book build (-W)=$(BIN)/jupyter-book build . -W --keep-going"

lint: $(STAMP)
	$(BIN)/ruff check mlbook tests benchmarks tools exercises

unit: $(STAMP)
	$(BIN)/python -m pytest tests -q -n 2 -p randomly --randomly-dont-reset-seed

notebooks: $(STAMP)
	$(BIN)/python -m pytest --nbval-lax --nbval-current-env -q -n 2 --dist loadfile book exercises

build-strict: $(STAMP)
	$(BIN)/jupyter-book build . -W --keep-going

clean:
	rm -rf _build .jupyter_cache
