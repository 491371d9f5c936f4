#!/usr/bin/env bash
# LLM benchmark (issue 3) on SmolLM2-135M-Instruct Q4_1, all in one run:
#   1. direct: llama.cpp driven by llama-cpp-2's plain single-sequence loop (examples/direct.rs),
#   2. engine: the same prompt through Selah's LocalModel at 1, 4 and 8 concurrent generations
#      (examples/engine_bench.rs),
#   3. http:   the same through `selah serve` (bench/llm/http_bench.py), when this build has the
#      chat endpoints;
#   4. interleaved: direct, engine and HTTP single-stream speed in alternating rounds, medians
#      (bench/llm/interleaved.py).
# Prints JSON lines per part, then a Markdown summary for docs/BENCHMARKS.md.
#
# Usage: bench/llm/run.sh        (builds --release first)
# Env:   GEN_TOKENS (default 128), THREADS (one-token steps; default: cores - 1, as Selah's
#        default), BATCH_THREADS (steps of several tokens; default: every core, as Selah's
#        default), RUNS (default 3), ROUNDS (interleaved rounds, default 6), SELAH_TEST_MODEL,
#        CARGO_TARGET_DIR, CARGO_FEATURES (e.g. "selah-ai/openmp" to measure OpenMP).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GEN=${GEN_TOKENS:-128}
CORES=$(nproc)
THREADS=${THREADS:-$(( CORES > 1 ? (CORES - 1 > 8 ? 8 : CORES - 1) : 1 ))}
BATCH_THREADS=${BATCH_THREADS:-$(( CORES > 16 ? 16 : CORES ))}
RUNS=${RUNS:-3}
MODEL=${SELAH_TEST_MODEL:-$("$ROOT/scripts/fetch-models.sh")}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
features=()
[ -n "${CARGO_FEATURES:-}" ] && features=(--features "$CARGO_FEATURES")

echo "building the bench examples --release…" >&2
(cd "$ROOT" && cargo build --release --locked -p selah-ai --examples "${features[@]}" --quiet)

echo "== direct (llama-cpp-2, single sequence)" >&2
direct=$("$TARGET/release/examples/direct" "$MODEL" "$GEN" "$THREADS" "$RUNS" "$BATCH_THREADS")
echo "$direct"
echo "== engine (LocalModel)" >&2
engine=$("$TARGET/release/examples/engine_bench" "$MODEL" "$GEN" "$THREADS" "$RUNS" "$BATCH_THREADS")
echo "$engine"

http=""
if grep -q '"/v1/chat/completions"' "$ROOT/docs/openapi.json" 2>/dev/null; then
  echo "== http (selah serve)" >&2
  (cd "$ROOT" && cargo build --release --locked -p selah "${features[@]}" --quiet)
  http=$(python3 "$ROOT/bench/llm/http_bench.py" --bin "$TARGET/release/selah" --model "$MODEL" \
    --gen "$GEN" --threads "$THREADS" --batch-threads "$BATCH_THREADS" --runs "$RUNS")
  echo "$http"
  # The same single-stream comparison in alternation (medians), which the host's drift between
  # the stretches above does not skew.
  echo "== interleaved (direct, engine, http in turn; ${ROUNDS:-6} rounds)" >&2
  python3 "$ROOT/bench/llm/interleaved.py" --examples "$TARGET/release/examples" \
    --bin "$TARGET/release/selah" --model "$MODEL" --rounds "${ROUNDS:-6}" --gen "$GEN" \
    --threads "$THREADS" --batch-threads "$BATCH_THREADS"
else
  echo "== http: skipped (this build has no chat endpoints yet)" >&2
fi

python3 - "$direct" "$engine" "$http" <<'PY'
import json, sys
direct = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
engine = [json.loads(l) for l in sys.argv[2].splitlines() if l.strip()]
turn = next((r for r in engine if r.get("second_turn")), None)
engine = [r for r in engine if "concurrency" in r]
http = [json.loads(l) for l in sys.argv[3].splitlines() if l.strip()]
best = max(direct, key=lambda r: r["gen_tps"])
print()
print("| Path | Concurrency | Prompt tok/s | Generation tok/s (per stream) | Aggregate tok/s | Time to first token |")
print("|---|---|---|---|---|---|")
print(f"| llama-cpp-2 direct | 1 | {best['prompt_tps']:.0f} | {best['gen_tps']:.1f} | {best['gen_tps']:.1f} | {best['ttft_ms']:.1f} ms |")
for r in engine:
    pt = r["prompt_tokens"] / (r["ttft_ms"] / 1000) if r["concurrency"] == 1 else None
    print(f"| LocalModel | {r['concurrency']} | {pt and f'{pt:.0f}' or '–'} | {r['gen_tps_per_stream']:.1f} | {r['aggregate_tps']:.1f} | {r['ttft_ms']:.1f} ms |")
for r in http:
    print(f"| HTTP {r['endpoint']} | {r['concurrency']} | – | {r['gen_tps_per_stream']:.1f} | {r['aggregate_tps']:.1f} | {r['ttft_ms']:.1f} ms |")
e1 = next(r for r in engine if r["concurrency"] == 1)
e4 = next(r for r in engine if r["concurrency"] == 4)
print()
print(f"engine/direct generation: {100 * e1['gen_tps_per_stream'] / best['gen_tps']:.1f}% "
      f"(first-token overhead {e1['ttft_ms'] - best['ttft_ms']:+.2f} ms); "
      f"4 concurrent / single aggregate: {e4['aggregate_tps'] / e1['aggregate_tps']:.2f}x")
if turn:
    print(f"second turn ({turn['prompt_tokens']} prompt tokens, {turn['cached_prompt_tokens']} from the "
          f"prompt cache): first token after {turn['ttft_ms_with_cache']:.1f} ms with the cache, "
          f"{turn['ttft_ms_without_cache']:.1f} ms without")
for r in http:
    if r["concurrency"] == 1:
        print(f"http {r['endpoint']}/direct generation: {100 * r['gen_tps_per_stream'] / best['gen_tps']:.1f}% "
              f"(first-token overhead {r['ttft_ms'] - best['ttft_ms']:+.2f} ms)")
PY
