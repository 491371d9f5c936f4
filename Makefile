# Selah — the README's commands. `make run` starts Selah; `make test` runs every test.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run build test lint fmt openapi bench-http clean-test-dbs

## Start Selah on its embedded defaults: SQLite in $XDG_DATA_HOME/selah, http://localhost:5000.
run:
	$(CARGO) run --release --locked -p selah -- serve

build:
	$(CARGO) build --release --locked -p selah

## Every test: unit, store, HTTP (SQLite and PostgreSQL), and process-level tests.
test: clean-test-dbs
	$(CARGO) test --workspace --locked

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

## Rewrite docs/openapi.json from the code (CI fails when the committed copy drifts).
openapi:
	UPDATE_OPENAPI=1 $(CARGO) test --locked -p selah-server --test api openapi::

bench-http:
	bench/http/run.sh

## Drop PostgreSQL databases left behind by earlier test runs.
clean-test-dbs:
	@scripts/clean-test-dbs.sh
