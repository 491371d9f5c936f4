#!/usr/bin/env bash
# HTTP foundation benchmark (issue 2): cold start to the first /health 200, idle resident
# memory after start + setup + login, and authenticated GET /api/v1/auth/me throughput and P99
# at 1 and 64 connections with wrk. Prints a Markdown table for docs/BENCHMARKS.md.
#
# Usage: bench/http/run.sh            (from anywhere; builds --release first)
# Env:   STARTS (default 10), DURATION (wrk seconds, default 10), CARGO_TARGET_DIR,
#        SELAH_BIN (a selah binary to measure instead of building one).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STARTS=${STARTS:-10}
DURATION=${DURATION:-10}
PASSWORD='bench-founder-password-1'

if ! command -v wrk >/dev/null; then
  echo "installing wrk from Debian's packages…" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get install -y wrk >/dev/null || { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; }
fi

if [ -n "${SELAH_BIN:-}" ]; then
  BIN=$SELAH_BIN   # measure an existing build, e.g. while the release build of a newer tree runs
else
  echo "building selah --release…" >&2
  (cd "$ROOT" && cargo build --release -p selah --quiet)
  BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/selah
fi

WORK=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
now_ns() { date +%s%N; }

# Starts selah on a fresh data directory ($1) and port ($2), environment as for a user except
# that rate limiting is off (wrk would hit it) and the log goes to the data directory only.
start() {
  env -u SELAH_CONFIG SELAH_RATE_LIMIT__ENABLED=false \
    "$BIN" --data-dir "$1" serve --port "$2" 2>"$1.stderr" &
  PID=$!
}
stop() { kill -TERM "$PID"; wait "$PID" || true; PID=""; }

# 1. Cold start: process launch to the first 200 from /health, fresh data directory each time.
starts=()
for i in $(seq "$STARTS"); do
  dir="$WORK/cold$i"; port=$(free_port)
  t0=$(now_ns)
  start "$dir" "$port"
  until curl -fs -o /dev/null "http://127.0.0.1:$port/health"; do
    kill -0 "$PID" 2>/dev/null || { cat "$dir.stderr" >&2; exit 1; }
    sleep 0.002
  done
  t1=$(now_ns)
  starts+=($(( (t1 - t0) / 1000000 )))
  stop
done
cold_ms=$(printf '%s\n' "${starts[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
cold_all=$(printf '%s ' "${starts[@]}")

# 2. Idle memory after start, setup and login.
dir="$WORK/main"; port=$(free_port); base="http://127.0.0.1:$port"
start "$dir" "$port"
until curl -fs -o /dev/null "$base/health"; do sleep 0.01; done
curl -fs -o /dev/null -X POST "$base/api/v1/setup/founder" -H 'Content-Type: application/json' \
  -d "{\"username\":\"founder\",\"password\":\"$PASSWORD\"}"
token=$(curl -fs -X POST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"founder\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
curl -fs -o /dev/null -H "Authorization: Bearer $token" "$base/api/v1/auth/me"
sleep 2
rss_kb=$(awk '/^VmRSS:/ {print $2}' "/proc/$PID/status")
rss_mb=$(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k/1024}')

# 3. Authenticated GET /api/v1/auth/me with wrk.
lua="$WORK/auth.lua"
printf 'wrk.headers["Authorization"] = "Bearer %s"\n' "$token" >"$lua"
run_wrk() { # connections threads -> "req/s p99_ms"
  local out
  out=$(wrk -t"$2" -c"$1" -d"${DURATION}s" --latency -s "$lua" "$base/api/v1/auth/me")
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "wrk saw errors" >&2; exit 1; fi
  local rps p99
  rps=$(echo "$out" | awk '/^Requests\/sec:/ {printf "%.0f", $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.2f", v}')
  echo "$rps $p99"
}
read -r rps1 p99_1 < <(run_wrk 1 1)
read -r rps64 p99_64 < <(run_wrk 64 2)
stop

verdict() { awk -v v="$1" -v t="$2" 'BEGIN {print (v < t ? "met" : "**missed**")}'; }
cat <<TABLE
| Measure | Result | Target | |
|---|---|---|---|
| Cold start to first \`/health\` 200 (median of $STARTS) | ${cold_ms} ms | < 300 ms | $(verdict "$cold_ms" 300) |
| Idle resident memory (start + setup + login) | ${rss_mb} MiB | < 40 MB | $(verdict "$rss_mb" 40) |
| \`GET /api/v1/auth/me\`, 1 connection | ${rps1} req/s, P99 ${p99_1} ms | | |
| \`GET /api/v1/auth/me\`, 64 connections | ${rps64} req/s, P99 ${p99_64} ms | P99 < 5 ms | $(verdict "$p99_64" 5) |

Cold starts (ms): ${cold_all}
TABLE
