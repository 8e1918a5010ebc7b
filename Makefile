# Back Propagation and Optimization: one command per job. Every target sets up
# what it needs (.venv, MathJax) on first use, so a fresh clone needs nothing else.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MATHJAX_VERSION := 3.2.2
MATHJAX := _extra/mathjax/tex-chtml.js
PORT ?= 8000

# Determinism and a headless, single-threaded numeric stack everywhere.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# Kernels come from this venv, never from a user-wide kernelspec.
export JUPYTER_PATH := $(CURDIR)/$(VENV)/share/jupyter
# nbgrader runs helper programs (alembic) from PATH.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup browser book test release serve grade feedback clean

help:
	@echo "make book     set up and build the book into _build/html"
	@echo "make test     set up and run every test (library, notebooks, grading, book)"
	@echo "make release  regenerate the student notebooks in chapters/ from solutions/"
	@echo "make serve    serve _build/html on http://127.0.0.1:$(PORT)"
	@echo "make grade A=01-gradients      autograde submitted/*/A (confined), write grades.csv"
	@echo "make feedback A=01-gradients   feedback HTML (hidden tests removed) in feedback/"
	@echo "make student OUT=dir           export the public student repository (no solutions, no hidden tests)"

setup: $(STAMP) $(MATHJAX)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; Python 3.11 or newer is needed." >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[plot,torch,book,grading,test]' -c constraints.txt
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (descentlab)" >/dev/null
	@touch $@

$(MATHJAX):
	@command -v npm >/dev/null 2>&1 || { echo "error: the book serves MathJax $(MATHJAX_VERSION) itself so that math renders offline, and fetching it needs Node.js and npm, which are missing. Install them (Debian: apt-get install nodejs npm) and run make again." >&2; exit 1; }
	rm -rf .mathjax _extra/mathjax
	mkdir -p .mathjax _extra
	npm install --prefix .mathjax --no-save --no-package-lock --no-audit --no-fund --loglevel=error mathjax@$(MATHJAX_VERSION)
	cp -r .mathjax/node_modules/mathjax/es5 _extra/mathjax
	@test -f $(MATHJAX) || { echo "error: MathJax was installed but $(MATHJAX) is missing." >&2; exit 1; }

book: setup
	$(VENV)/bin/jupyter-book build . --path-output . -W -n --keep-going
	@echo "The book is in _build/html/index.html (make serve to browse it)."

test: setup browser
	$(VENV)/bin/pytest

# Browser tests drive Debian's chromium (never a downloaded browser); installed here when possible.
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests (once)..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; the browser tests will be skipped."; \
	  else \
	    echo "note: /usr/bin/chromium is missing; the browser tests will be skipped (install it: sudo apt-get install chromium)."; \
	  fi; \
	fi

release: $(STAMP)
	$(PY) tools/release.py

# The public student repository (book, student notebooks, descentlab; no solutions, hidden
# tests or instructor files) as a fresh one-commit git repository: README "Two repositories".
.PHONY: student
student:
	$(PYTHON) tools/export_student.py --out "$(or $(OUT),_build/student-repo)"

serve:
	@test -f _build/html/index.html || { echo "error: no book yet; run make book first." >&2; exit 1; }
	@echo "Serving the book at http://127.0.0.1:$(PORT)/ (Ctrl-C stops)"
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

grade: $(STAMP)
	@test -n "$(A)" || { echo "usage: make grade A=<assignment, e.g. 01-gradients>" >&2; exit 1; }
	@test -d "solutions/$(A)" || { echo "error: no assignment solutions/$(A); choose one of: $$(ls solutions)" >&2; exit 1; }
	@ls -d submitted/*/"$(A)" >/dev/null 2>&1 || { echo "error: no submissions; put them at submitted/<student-id>/$(A)/exercises.ipynb" >&2; exit 1; }
	@# confined kernels, verdicts in the checker, a status for every student (see the instructor guide)
	$(VENV)/bin/gradeguard grade "$(A)" $(if $(UNCONFINED),--unconfined)

feedback: $(STAMP)
	@test -n "$(A)" || { echo "usage: make feedback A=<assignment>" >&2; exit 1; }
	$(VENV)/bin/nbgrader generate_feedback "$(A)"

clean:
	rm -rf _build .pytest_cache
