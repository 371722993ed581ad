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

# The integration tests on INTEGRATION_WORKERS pytest-xdist workers, file by file, each worker in a network
# namespace of its own (tools/netns/python: its own 127.0.0.0/8 and ports, nothing leaves it); serially,
# saying why, where namespaces are refused. INTEGRATION_WORKERS=1 runs them serially.
INTEGRATION_WORKERS ?= 2

integration: bootstrap
	@if [ "$(INTEGRATION_WORKERS)" -gt 1 ] && why=$$(tools/netns/python -c pass 2>&1); then \
	  echo "integration: $(INTEGRATION_WORKERS) workers, each in its own network namespace"; \
	  $(PY) -m pytest tests/integration -q --durations=25 --dist loadfile \
	    --tx "$(INTEGRATION_WORKERS)*popen//python=$(CURDIR)/tools/netns/python"; \
	else \
	  echo "integration: one worker$${why:+ (no network namespace here: $$(echo "$$why" | tail -n1))}"; \
	  $(PY) -m pytest tests/integration -q --durations=25; \
	fi

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
