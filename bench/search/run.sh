#!/usr/bin/env bash
# Search benchmark (issue 4), all in one run on the relevance corpus (tests/relevance/):
#   1. in-process (crates/selah-server/examples/search_bench.rs): embedding throughput, the HNSW
#      graph at TARGET vectors (build time, ANN recall@10 against exact, vector search latency),
#      and a data directory holding TARGET passages;
#   2. HTTP (http_bench.py): ingestion time for about 10,000 passages through `selah serve`
#      (upload to every document ready), and GET /api/v1/search P50/P99 at TARGET passages, timed
#      by the Python client and then by the lean Rust one (examples/search_latency.rs);
#   3. baseline (baseline.py, in a venv with sentence-transformers and chromadb from PyPI): the
#      same passages and questions embedded by sentence-transformers and stored and queried in
#      chromadb; and how close Selah's vectors are to sentence-transformers' for the same texts.
# Prints JSON lines per part.
#
# Usage: bench/search/run.sh          (builds --release first)
# Env:   TARGET (default 100000), INGEST_PASSAGES (default 10000), SKIP_BASELINE=1, SKIP_INGEST=1,
#        BENCH_VENV (default ~/.cache/selah/bench-venv), CARGO_TARGET_DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET_N=${TARGET:-100000}
INGEST=${INGEST_PASSAGES:-10000}
CACHE="${SELAH_CACHE_DIR:-$HOME/.cache/selah}"
EMBED=${SELAH_TEST_EMBED_MODEL:-$("$ROOT/scripts/fetch-models.sh" embed)}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
VENV=${BENCH_VENV:-$CACHE/bench-venv}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/selah-search-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

echo "building --release…" >&2
# One build of the whole workspace: `-p` would select another feature set per package and build
# llama.cpp twice.
(cd "$ROOT" && cargo build --release --locked --workspace --bins --examples --quiet)

echo "== in-process (embedding, graph, data directory at $TARGET_N passages)" >&2
"$TARGET_DIR/release/examples/search_bench" "$ROOT/tests/relevance/corpus" \
  "$ROOT/tests/relevance/questions.json" "$EMBED" "$WORK" "$TARGET_N"

echo "== http (ingestion of ~$INGEST passages; search latency at $TARGET_N)" >&2
python3 "$ROOT/bench/search/http_bench.py" --bin "$TARGET_DIR/release/selah" \
  --corpus "$ROOT/tests/relevance/corpus" --embed "$EMBED" --questions "$WORK/questions.jsonl" \
  --big-data "$WORK/data" --ingest-passages "$INGEST" \
  --latency-client "$TARGET_DIR/release/examples/search_latency" ${SKIP_INGEST:+--skip-ingest}

if [ -z "${SKIP_BASELINE:-}" ]; then
  # A venv left half-made (or made for something else) lacks one of the two: install them.
  if ! "$VENV/bin/python" -c "import sentence_transformers, chromadb" 2>/dev/null; then
    echo "making the baseline venv in $VENV (sentence-transformers, chromadb)…" >&2
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet sentence-transformers chromadb >&2
  fi
  echo "== baseline (sentence-transformers + chromadb)" >&2
  "$VENV/bin/python" "$ROOT/bench/search/baseline.py" --model "$EMBED" --work "$WORK" \
    --target "$TARGET_N" --ingest-passages "$INGEST"
fi
