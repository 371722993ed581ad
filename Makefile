# The two commands: `make signoff` (the main job, on the embedded sandbox) and `make test` (what CI runs).
# Both bootstrap what they need first (tools/bootstrap.sh: .venv, locked packages, Debian packages).

VENV    ?= .venv
PY      := $(VENV)/bin/python
MCPROOF := $(VENV)/bin/mcproof
ENV     ?= local

.PHONY: help bootstrap signoff test lint unit integration suites bench sandbox-up sandbox-down clean

help:
	@echo "make signoff   start the sandbox, run every suite against it, write reports/latest/, stop it"
	@echo "make test      lint + the harness's own tests + the suites against the sandbox (what CI runs)"
	@echo "make bench     benchmarks (see bench/README.md)"

bootstrap:
	@tools/bootstrap.sh

signoff: bootstrap
	$(MCPROOF) signoff --env $(ENV)

test: bootstrap lint unit integration suites

lint: bootstrap
	$(VENV)/bin/ruff check src tests suites fixtures bench conftest.py
	$(VENV)/bin/ruff format --check src tests suites fixtures bench conftest.py
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

unit: bootstrap
	$(PY) -m pytest tests/unit -q --doctest-modules src/mcproof src/mcproof_sandbox

integration: bootstrap
	$(PY) -m pytest tests/integration -q --durations=25

# The suites against the embedded sandbox: started if needed, stopped afterwards.
suites: bootstrap
	$(MCPROOF) run --env $(ENV)

bench: bootstrap
	$(PY) bench/fleet_sweep.py

sandbox-up: bootstrap
	$(MCPROOF) sandbox up --env $(ENV)

sandbox-down: bootstrap
	$(MCPROOF) sandbox down --env $(ENV)

clean:
	-$(MCPROOF) sandbox down --env $(ENV) 2>/dev/null
	rm -rf reports .mcproof
