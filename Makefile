# The two commands of the README, and the steps they are made of.
# Needs only python3 (3.11+), make and bash; everything else goes into .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install --disable-pip-version-check -q -c constraints.txt
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: demo test install install-test serve clean

## make demo: install, migrate, load the demo once, print the admin login, serve on 127.0.0.1:8000
demo: install
	$(BIN)/masthead demo --host $(HOST) --port $(PORT)

## make test: install test dependencies and run every test (SQLite, PostgreSQL, browser)
test: install-test
	bash scripts/run-tests.sh

install: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

install-test: install $(BIN)/.installed-test

$(BIN)/.installed-test: pyproject.toml constraints.txt package.json package-lock.json
	$(PIP) -e ".[test]"
	if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --ignore-scripts; \
	else echo "npm not found: vnu-jar not installed, the HTML validity tests will be skipped (fail under CI=true)"; fi
	touch $@

clean:
	rm -rf $(VENV) var test-results
