#!/usr/bin/env bash
# The web app's figures for docs/BENCHMARKS.md: bundle sizes (initial versus lazy, gzipped) and
# time to interactive on loopback against the release binary with the app embedded.
#   bench/web/run.sh            (builds web/dist and the release binary first)
#   RUNS=20 SELAH_BIN=… bench/web/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/selah/target-bench}"
make -s web >/dev/null
echo "## bundle"
node bench/web/bundle.mjs
bin="${SELAH_BIN:-$CARGO_TARGET_DIR/release/selah}"
if [ -z "${SELAH_BIN:-}" ]; then cargo build --release --locked -p selah -q; fi
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SELAH_DATA_DIR="$data" SELAH_BIND="127.0.0.1:$port" SELAH_LOG__TO_FILE=false SELAH_LOG__LEVEL=warn \
  "$bin" serve & pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/v1/setup/status" >/dev/null && break; sleep 0.1; done
# A founder exists, so the first screen is the sign-in form.
curl -sf -X POST -H 'content-type: application/json' \
  -d '{"username":"founder","password":"correct horse battery staple"}' \
  "http://127.0.0.1:$port/api/v1/setup/founder" >/dev/null
echo "## time to interactive ($(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs))"
node bench/web/tti.mjs "http://127.0.0.1:$port/"
