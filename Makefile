# Two commands (see README.md):
#   make book   -- build the book into _build/html (executes every notebook)
#   make test   -- lint, unit tests, the exercise notebooks under nbval, book build with warnings as errors
#                  (the build executes every chapter and fails on any error: chapters run once, not twice),
#                  then a browser test of the built site (headless Chromium, installed by browser-env)
# Each creates or updates the local virtual environment .venv on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PyTorch is installed first, on its own. On Linux the public index's torch is the CUDA build (several GB of
# nvidia-* wheels), so pip also looks in PyTorch's CPU wheel index there (its 2.13.0+cpu outranks 2.13.0). macOS
# and Windows get CPU (and Apple MPS) builds from the public index. With an NVIDIA GPU:
# `make env TORCH_INDEX=https://download.pytorch.org/whl/cu126` (a CUDA build); `make env TORCH_INDEX=`: public index.
TORCH_INDEX ?= $(if $(filter Linux,$(shell uname -s)),https://download.pytorch.org/whl/cpu,)
TORCH_PIN := $(shell grep -m1 '^torch==' requirements.txt)
# The local mirror of the Omniglot zips, when ../shared sits beside the clone (as in CI).
MLBOOK_DATA ?= $(if $(wildcard ../shared/data/omniglot/MD5SUMS),$(abspath ../shared/data/omniglot),)
export MLBOOK_DATA
# Notebooks and tests must not fight over the two cores.
export OMP_NUM_THREADS ?= 2
export PYDEVD_DISABLE_FILE_VALIDATION = 1

.PHONY: book book-offline offline-packages test lint unit notebooks build-strict env browser-env clean

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX) --retries 1,) "$(TORCH_PIN)"
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --keep-going
	@echo "Open _build/html/index.html"

# The same site readable with no network: MathJax, require.js and the Jupyter widget manager, which pages load
# from CDNs, installed from the npm registry (needs Node.js's npm) and served from _build/html/_static/vendor.
# The browser test checks such a copy too (every equation typeset), when npm is there.
OFFLINE_NPM := mathjax@3.2.2 requirejs@2.3.8 @jupyter-widgets/html-manager@1.0.15
OFFLINE_MODULES := .cache/offline/node_modules
book-offline: book
	@command -v npm >/dev/null || { echo "book-offline needs npm (Node.js) to fetch MathJax and the widget manager" >&2; exit 1; }
	@$(MAKE) --no-print-directory offline-packages
	$(BIN)/python tools/offline_site.py _build/html --node-modules $(OFFLINE_MODULES)

offline-packages:
	@if ! command -v npm >/dev/null; then echo "no npm: the browser test checks math markup, not typesetting"; \
	elif [ ! -f $(OFFLINE_MODULES)/mathjax/package.json ] || [ ! -f $(OFFLINE_MODULES)/requirejs/package.json ] \
		|| [ ! -d $(OFFLINE_MODULES)/@jupyter-widgets/html-manager/dist ]; then \
		npm install --silent --no-audit --no-fund --prefix .cache/offline $(OFFLINE_NPM); fi

# Debian's Chromium and its driver for the browser test (tools/site_check.py), installed by the test command's set-up
# (apt, about 40 s once); nothing is downloaded at test time. Elsewhere install them and set CHROMIUM and CHROMEDRIVER.
CHROMIUM ?= /usr/bin/chromium
CHROMEDRIVER ?= /usr/bin/chromedriver
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

browser-env:
	@if [ -x "$(CHROMIUM)" ] && [ -x "$(CHROMEDRIVER)" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "The browser test needs Chromium and chromedriver at $(CHROMIUM) and $(CHROMEDRIVER)." >&2; \
		echo "On Debian/Ubuntu: apt-get install -y chromium chromium-driver (no apt-get here: install them" \
			"and set CHROMIUM and CHROMEDRIVER)" >&2; \
		exit 1; \
	fi; \
	began=$$(date +%s); \
	echo "Installing Chromium for the browser test: $(SUDO) apt-get install -y chromium chromium-driver"; \
	{ $(SUDO) apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
		|| { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q chromium chromium-driver >/dev/null; }; } \
		|| { echo "apt-get install -y chromium chromium-driver failed (see above)" >&2; exit 1; }; \
	echo "browser set-up: $$(( $$(date +%s) - began )) s"

test: $(STAMP) browser-env offline-packages
	@$(BIN)/python tools/stages.py \
		"lint=$(BIN)/ruff check mlbook tests benchmarks tools exercises" \
		"unit tests=$(BIN)/python -m pytest tests -q -n 2 -p randomly --randomly-dont-reset-seed --ignore=tests/site" \
		"exercise notebooks (nbval)=$(BIN)/python -m pytest --nbval-lax --nbval-current-env -q -n 2 --dist loadfile exercises" \
		"book build (-W)=$(BIN)/jupyter-book build . -W --keep-going" \
		"browser test=$(BIN)/python tools/site_check.py --html _build/html \
			$(if $(wildcard $(OFFLINE_MODULES)/mathjax),--offline-from $(OFFLINE_MODULES))"

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
