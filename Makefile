PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint format bench screenshots clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/talentmatch bootstrap --scale small
	$(BIN)/talentmatch serve --host 127.0.0.1 --port 8000

# On both cores (pytest-xdist): a module runs whole on one worker, the slow ones first (tests/conftest.py).
# TEST_WORKERS=0 runs the suite in this one process.
TEST_WORKERS ?= 2

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS)

lint: install
	$(BIN)/ruff check service models training tests benchmarks
	$(BIN)/ruff format --check service models training tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix service models training tests benchmarks
	$(BIN)/ruff format service models training tests benchmarks

bench: install
	$(BIN)/python -m benchmarks --scale small

# The docs' screenshots from the real pages: a real server on the seeded demo store, Debian's Chromium.
screenshots: install
	$(BIN)/python -m tests.screenshots --out docs/screenshots

clean:
	rm -rf $(VENV) var build *.egg-info
