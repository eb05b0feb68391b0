# smartcar-pilot: the two commands of the README, and a few helpers.
.PHONY: setup demo test test-unit lint up down status lock clean-state

setup:            ## install system packages, the Python environment and the JVM jars (idempotent)
	@bash stack/setup.sh

demo: setup       ## the main job: stack up, then the end-to-end pipeline on a simulated day
	@.venv/bin/pilot demo

test: setup       ## the whole test suite; starts the services it needs and stops them after
	@.venv/bin/python -m pytest

test-unit: setup  ## only the tests that need no service (seconds)
	@.venv/bin/python -m pytest -m "not integration"

lint: setup
	@.venv/bin/ruff check .

up: setup
	@.venv/bin/pilot stack up

down:
	@.venv/bin/pilot stack down

status:
	@.venv/bin/pilot stack status

lock:             ## re-pin requirements.lock from the current .venv
	@{ echo "# Exact versions of every Python dependency, tested together (Python 3.11)."; \
	   echo "# Regenerate: make lock"; \
	   .venv/bin/pip freeze --exclude-editable | grep -v '^-e' | sort -f; } > requirements.lock

clean-state: down ## delete all service data, logs and generated secrets (var/)
	rm -rf var
