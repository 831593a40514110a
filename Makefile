# Set-up and everyday commands. `make demo` and `make test` create the venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Locks of the optional extras the tests need (requirements-<extra>.lock, pinned beside requirements.lock):
# `make install` installs the [serve] and [tracking] extras' pins with the core lock, so CI runs the serving and
# tracking tests instead of skipping them ([ray]: the Ray-cluster search tests; [slurm]: the submitit sweep test).
# A new extra adds its lock file here.
EXTRA_LOCKS := requirements-serve.lock requirements-tracking.lock requirements-ray.lock requirements-slurm.lock

.PHONY: install demo test test-fast lint bench lock clean help reference-run

help:
	@echo "make demo   - create .venv, install, run a real recipe on bundled data"
	@echo "make test   - create .venv, install, run the whole test suite (slow cases included)"
	@echo "make test-fast - the suite without the slow end-to-end cases"
	@echo "make lint   - ruff over the package, tests and benchmarks; lint-imports checks the layers (.importlinter)"
	@echo "make bench  - benchmark scripts (print tables; about 40 minutes on 2 cores)"
	@echo "make lock   - refresh requirements.lock from a clean venv of pyproject.toml"
	@echo "make reference-run - regenerate examples/ci/reference-run (the run CI replays)"

$(STAMP): pyproject.toml requirements.lock $(EXTRA_LOCKS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock $(addprefix -r ,$(EXTRA_LOCKS))
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mlengine run recipes/titanic.yaml --runs-dir runs

# The whole suite on two xdist workers too: 1,571 tests in 620 s (2 quiet cores, fresh clone, 2026-12-04); -x stops both workers at
# the first failure.
test: $(STAMP)
	$(BIN)/python -m pytest -x -q -n 2 --dist loadgroup

# -n 2 --dist loadgroup: two pytest-xdist workers, one per core (tests/README.md: what keeps a test xdist-safe);
# each test module and the xdist_group("ray") module stay on one worker (tests/conftest.py). The slowest end-to-end
# cases (a test of 3 s or more, measured in the whole suite) are marked slow. Measured: 1,411 tests in 169 s
# (2 quiet cores, 2026-12-04; 1,146 tests took 305 s before the 59 slowest were marked slow).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -x -q -m "not slow" -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check mlengine tests benchmarks examples
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/engine_overhead.py
	$(BIN)/python benchmarks/inference.py
	$(BIN)/python benchmarks/busy_machine.py
	$(BIN)/python benchmarks/serving.py
	$(BIN)/python benchmarks/sweep_launchers.py
	$(BIN)/python benchmarks/reproducibility_cost.py
	$(BIN)/python benchmarks/imbalance.py
	$(BIN)/python benchmarks/search_quality.py --quick
	$(BIN)/python benchmarks/distributed.py

lock:
	rm -rf .lockvenv && $(PYTHON) -m venv .lockvenv
	.lockvenv/bin/pip install --quiet -e ".[dev]"
	(echo "# Tested lock of mlengine's dependencies (Python 3.11, Linux x86_64). 'make install' installs exactly these."; \
	 echo "# Regenerate with 'make lock' after changing pyproject.toml, then run 'make test'."; \
	 .lockvenv/bin/pip freeze --exclude-editable | grep -v -i '^mlengine') > requirements.lock
	rm -rf .lockvenv

reference-run: $(STAMP)
	rm -rf examples/ci/reference-run .reference-tmp
	$(BIN)/mlengine run examples/ci/reference.yaml --runs-dir .reference-tmp --quiet
	mv .reference-tmp/reference/2* examples/ci/reference-run && rm -rf .reference-tmp
	$(BIN)/mlengine replay examples/ci/reference-run --quiet

clean:
	rm -rf $(VENV) runs .pytest_cache
