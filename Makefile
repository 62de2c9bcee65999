# sopbot — two commands for a newcomer: `make demo`, `make test`.
# `make check` is the inner loop (lint, format, types, pure and unit tests: under a minute);
# `make test` is `make check` plus the sandbox, database and end-to-end tests on both databases.
PYTHON  ?= python3
VENV    := .venv
STAMP   := $(VENV)/.installed-stamp
#: pytest-xdist workers for the slow tiers: three on two cores (the tests wait on I/O and on the
#: sandbox as much as they compute; measured 2026-12-04: 5 min 59 s with two, 4 min 53 s with three)
WORKERS ?= 3
PYTEST  := $(VENV)/bin/python -m pytest

.PHONY: demo check lint types unit test bench install clean

$(STAMP): pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/sopbot demo

# the three parts are independent and run side by side, each one's output printed when it ends
check: $(STAMP)
	$(MAKE) --no-print-directory --output-sync=target -j3 lint types unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: $(STAMP)
	$(VENV)/bin/python -m mypy

unit: $(STAMP)
	$(PYTEST) tests/sop tests/unit -n 2

# CI (.ci/run) runs this: the 15 slowest tests are printed at the end
test: check
	$(PYTEST) tests/sandbox tests/db tests/e2e -n $(WORKERS) --durations=15

bench: $(STAMP)
	for b in bench/bench_*.py; do $(VENV)/bin/python $$b || exit 1; done

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache sopbot-demo.db*
