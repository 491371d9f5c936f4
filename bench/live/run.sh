#!/usr/bin/env bash
# Live sessions benchmark (docs/LIVE.md): CONNECTIONS WebSockets on one server instance, in ROOMS
# rooms, each connection sending RATE signals a second, every signal fanned out to every member
# of its room (the sender included). Measures, with crates/selah-live/examples/live_load.rs, the
# fan-out latency (send to each receiver: P50, P99, P99.9), the messages delivered per second
# against the expected CONNECTIONS x RATE x room size, and the server's resident memory (VmRSS
# sampled every second from /proc; idle is after start and sign-in, before any WebSocket), so
# memory per connection. First `selah serve` (fresh data directory, the founder's token for every
# connection, rooms made with room.create), then the same load against a Node `ws` broadcast
# server (bench/live/node-server.mjs), in the same run on the same machine. Prints the machine,
# every live_load JSON line and a Markdown table.
#
# The load generator runs on the same machine as the server and takes its share of the cores:
# its JSON line's send_lag_p99_ms says how late its signals left. Above a few ms the client was
# short of CPU, and the offered load (sent msg/s) fell below CONNECTIONS x RATE.
#
# Usage: bench/live/run.sh            (from anywhere; builds --release first)
# Env:   CONNECTIONS (10000), ROOMS (100), DURATION (measured seconds, 20; SECONDS_ also works),
#        WARMUP (5), RATE (signals per connection per second, 1; RATES="0.1 0.5 1" runs each in
#        turn, on a fresh server each time), CONCURRENCY (handshakes in flight, 200),
#        ONLY=selah|node (one server only), CARGO_TARGET_DIR (default ~/.cache/selah/target),
#        SELAH_BIN (a selah binary to measure instead of building one).
# Needs node and npm (runs `npm ci` in bench/live when node_modules is missing), curl, python3.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CONNECTIONS=${CONNECTIONS:-10000}
ROOMS=${ROOMS:-100}
DURATION=${DURATION:-${SECONDS_:-20}}
WARMUP=${WARMUP:-5}
RATES=${RATES:-${RATE:-1}}
CONCURRENCY=${CONCURRENCY:-200}
ONLY=${ONLY:-}
PASSWORD='bench-founder-password-1'
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/selah/target}
case "$ONLY" in "" | selah | node) ;; *) echo "ONLY is selah or node" >&2; exit 2 ;; esac

# Each process holds one descriptor per connection (the client all of them).
need=$((CONNECTIONS + 512))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  [ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$need" ] ||
    echo "warning: ulimit -n is $(ulimit -n), below the $need that $CONNECTIONS connections need" >&2
fi

echo "building --release…" >&2
if [ "$ONLY" != node ] && [ -z "${SELAH_BIN:-}" ]; then
  (cd "$ROOT" && cargo build --release --locked -p selah --bin selah --quiet)
fi
(cd "$ROOT" && cargo build --release --locked -p selah-live --example live_load --quiet)
BIN=${SELAH_BIN:-$CARGO_TARGET_DIR/release/selah}
LOAD=$CARGO_TARGET_DIR/release/examples/live_load
NODE_WS=-
if [ "$ONLY" != selah ]; then
  if [ ! -d "$ROOT/bench/live/node_modules/ws" ]; then
    echo "npm ci in bench/live…" >&2
    (cd "$ROOT/bench/live" && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
  NODE_WS=$(node -p 'require(process.argv[1]).version' "$ROOT/bench/live/node_modules/ws/package.json")
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/selah-live-bench.XXXXXX")
PID=""
SAMPLER=""
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
  [ -n "$PID" ] && kill "$PID" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
stop() { kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; PID=""; }
wait_http() { # URL: until it answers (any status), or the server died
  for _ in $(seq 1 600); do
    curl -s -o /dev/null "$1" && return 0
    kill -0 "$PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# Samples every second while the load runs: ms since the epoch, the server's VmRSS and VmHWM
# (KiB), the CPU time (clock ticks, all threads) of the server and of the load generator, and
# the whole machine's busy time (ticks, all cores), so that other work on the machine shows.
sample() { # SERVER_PID CLIENT_PID OUT
  while [ -r "/proc/$1/status" ]; do
    local rss hwm ticks client busy
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null) || break
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null) || break
    ticks=$(awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null) || break
    client=$(awk '{print $14 + $15}' "/proc/$2/stat" 2>/dev/null) || client=0
    busy=$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat)
    echo "$(date +%s%3N) $rss $hwm $ticks $client $busy" >>"$3"
    sleep 1
  done
}

# Runs live_load against the server $PID and writes NAME.json (its JSON line, with the server's
# idle and peak RSS and its CPU over the measured window added), or NAME.failed.
measure() { # NAME RATE URL TOKEN IDLE_KB [live_load flags...]
  local name=$1 rate=$2 url=$3 token=$4 idle=$5
  shift 5
  : >"$WORK/$name.samples"
  "$LOAD" --url "$url" --token "$token" --connections "$CONNECTIONS" --rooms "$ROOMS" \
    --warmup "$WARMUP" --seconds "$DURATION" --rate "$rate" --concurrency "$CONCURRENCY" "$@" \
    >"$WORK/$name.out" &
  local load_pid=$! rc=0
  sample "$PID" "$load_pid" "$WORK/$name.samples" &
  SAMPLER=$!
  wait "$load_pid" || rc=$?
  local hwm
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$PID/status" 2>/dev/null || echo 0)
  kill "$SAMPLER" 2>/dev/null || true
  wait "$SAMPLER" 2>/dev/null || true
  SAMPLER=""
  if [ "$rc" -ne 0 ] || [ ! -s "$WORK/$name.out" ]; then
    echo "live_load against $name failed (exit $rc)" >&2
    touch "$WORK/$name.failed"
    return 0
  fi
  python3 - "$WORK/$name.out" "$WORK/$name.samples" "$idle" "$hwm" "$DURATION" "$(getconf CLK_TCK)" \
    >"$WORK/$name.json" <<'PY'
import json, sys
out, samples, idle, hwm, duration, tck = sys.argv[1:]
r = json.loads(open(out).read().strip().splitlines()[-1])
s = [tuple(map(int, l.split())) for l in open(samples) if len(l.split()) == 6]
r["server_idle_rss_kib"] = int(idle)
r["server_load_rss_kib"] = max((x[1] for x in s), default=0)
r["server_hwm_kib"] = int(hwm)
# CPU over the measured window: live_load exits as the window ends.
if len(s) >= 2:
    last = s[-1]
    first = min(s, key=lambda x: abs(x[0] - (last[0] - float(duration) * 1000)))
    dt = (last[0] - first[0]) / 1000
    if dt > 0:
        cores = lambda i: round((last[i] - first[i]) / int(tck) / dt, 2)
        r["server_cpu_cores"], r["client_cpu_cores"] = cores(3), cores(4)
        # Everything else the machine did meanwhile (other processes, the kernel's own threads).
        r["other_cpu_cores"] = max(0.0, round(cores(5) - cores(3) - cores(4), 2))
print(json.dumps(r))
PY
}

run_selah() { # RATE
  echo "== selah ($BIN), $1 signal/s per connection" >&2
  local dir="$WORK/selah-$1" port base token idle
  port=$(free_port)
  base="http://127.0.0.1:$port"
  # One founder token serves every connection: the per-user cap is raised above CONNECTIONS.
  env -u SELAH_CONFIG -u SELAH_BIN SELAH_RATE_LIMIT__ENABLED=false SELAH_LOG__LEVEL=warn \
    SELAH_LOG__TO_FILE=false SELAH_AI__OLLAMA_MODELS_DIR=/nonexistent \
    SELAH_LIVE__MAX_CONNECTIONS_PER_USER=$((CONNECTIONS > 19000 ? CONNECTIONS + 1000 : 20000)) \
    "$BIN" --data-dir "$dir" serve --port "$port" 2>"$dir.stderr" &
  PID=$!
  wait_http "$base/health" || { cat "$dir.stderr" >&2; exit 1; }
  curl -fs -o /dev/null -X POST "$base/api/v1/setup/founder" -H 'Content-Type: application/json' \
    -d "{\"username\":\"founder\",\"password\":\"$PASSWORD\"}"
  token=$(curl -fs -X POST "$base/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"founder\",\"password\":\"$PASSWORD\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  sleep 1 # the sign-in's Argon2 memory is returned
  idle=$(rss_kb "$PID")
  measure "selah-$1" "$1" "ws://127.0.0.1:$port/ws" "$token" "$idle" --create-rooms
  stop
  # Anything beyond the usual start-up notes is shown.
  local notes='no embedding model|unknown environment variable'
  if grep -Ev "$notes" "$dir.stderr" | grep -q .; then
    echo "selah's stderr (last lines):" >&2
    grep -Ev "$notes" "$dir.stderr" | tail -n 20 >&2
  fi
}

run_node() { # RATE
  echo "== node ws ($(node --version), ws $NODE_WS), $1 signal/s per connection" >&2
  local port idle
  port=$(free_port)
  PORT=$port node "$ROOT/bench/live/node-server.mjs" 2>"$WORK/node-$1.stderr" &
  PID=$!
  wait_http "http://127.0.0.1:$port/ws" || { cat "$WORK/node-$1.stderr" >&2; exit 1; }
  sleep 1
  idle=$(rss_kb "$PID")
  measure "node-$1" "$1" "ws://127.0.0.1:$port/ws" bench "$idle"
  stop
}

for rate in $RATES; do
  [ "$ONLY" = node ] || run_selah "$rate"
  [ "$ONLY" = selah ] || run_node "$rate"
done

echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr);" \
  "node $(node --version 2>/dev/null || echo '-') with ws $NODE_WS. Load: $CONNECTIONS connections in $ROOMS rooms," \
  "signals per connection per second: $RATES; ${WARMUP} s warm-up, ${DURATION} s measured;" \
  "load generator and server on the same machine."
echo
for rate in $RATES; do
  for name in "selah-$rate" "node-$rate"; do
    if [ -s "$WORK/$name.json" ]; then echo "$name: $(cat "$WORK/$name.json")"; fi
    if [ -e "$WORK/$name.failed" ]; then echo "$name: FAILED"; fi
  done
done
echo
python3 - "$WORK" $RATES <<'PY'
import json, os, sys
work, rates = sys.argv[1], sys.argv[2:]
notes = []
print("| server | rate /s | connections | sent msg/s | delivered msg/s | expected msg/s | P50 ms | P99 ms "
      "| P99.9 ms | server RSS under load (MiB) | RSS per connection (KiB) | server CPU (cores) | errors |")
print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
for rate in rates:
    for name, label in (("selah", "Selah"), ("node", "Node ws")):
        base = os.path.join(work, f"{name}-{rate}")
        if os.path.exists(base + ".failed"):
            print(f"| {label} | {rate} | failed | | | | | | | | | | |")
            continue
        if not os.path.exists(base + ".json"):
            continue
        r = json.load(open(base + ".json"))
        load, idle = r["server_load_rss_kib"], r["server_idle_rss_kib"]
        per = (load - idle) / r["connections"] if r["connections"] else 0
        errors = f'{r["errors"]}' + (f' (+{r["disconnects"]} disconnects)' if r["disconnects"] else "")
        cpu = r.get("server_cpu_cores")
        print(f'| {label} | {rate} | {r["connections"]:,} | {r["sent_per_s"]:,.0f} | {r["delivered_per_s"]:,.0f} '
              f'| {r["expected_per_s"]:,.0f} | {r["p50_ms"]:.2f} | {r["p99_ms"]:.2f} | {r["p999_ms"]:.2f} '
              f'| {load / 1024:.0f} | {per:.1f} | {"-" if cpu is None else f"{cpu:.2f}"} | {errors} |')
        notes.append(f'{label} at {rate}/s: load generator {r.get("client_cpu_cores", "-")} cores, '
                     f'anything else on the machine {r.get("other_cpu_cores", "-")} cores; '
                     f'send lag P99 {r["send_lag_p99_ms"]:.1f} ms')
print()
for n in notes:
    print(f"- {n}")
PY
