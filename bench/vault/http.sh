#!/usr/bin/env bash
# Vault HTTP throughput over loopback: a release `selah serve` on a fresh data directory, an
# age file of SIZE_MIB made by the `age` CLI, uploaded with one tus PATCH by curl (streamed
# from disk with -T) and downloaded to /dev/null. Prints MB/s (10^6 bytes, as the issue's
# target) and MiB/s, and the server's peak resident memory (VmHWM, reset after the sign-in);
# then `selah vault put`/`get` of the same size against `age -r`/`age -d`, and `selah vault
# encrypt`/`decrypt` (the same work as `age`, no network) file to file and to /dev/null, in
# plaintext MB/s. Selah's files are fsynced before they are renamed into place; age's are not,
# so `age` is also timed with `sync FILE` after it: the same work, a file safe on disk. Last,
# `vault_bench` compares selah-vault's STREAM writer and reader with the `age` crate's in
# process (the issue's "1.5x the age crate" target), so one run records every vault figure.
#
#   bench/vault/http.sh [SIZE_MIB]        (default 1024)
#
# Honours CARGO_TARGET_DIR; BENCH_ENV="VAR=value ..." adds variables to the server's environment.
# Needs curl and the Debian package `age`.
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-1024}
cargo build --release --locked --workspace --bins --example vault_bench >&2
selah=${CARGO_TARGET_DIR:-target}/release/selah
vault_bench=${CARGO_TARGET_DIR:-target}/release/examples/vault_bench

dir=$(mktemp -d /tmp/selah-vault-http.XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

age-keygen -o "$dir/key" 2>/dev/null
recipient=$(age-keygen -y "$dir/key")
head -c "$((size_mib * 1024 * 1024))" /dev/urandom | age -r "$recipient" -o "$dir/file.age"
len=$(stat -c %s "$dir/file.age")
sha=$(sha256sum "$dir/file.age" | cut -d' ' -f1)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
env ${BENCH_ENV:-} SELAH_DATA_DIR="$dir/data" SELAH_RATE_LIMIT__ENABLED=false SELAH_LOG__LEVEL=warn \
  SELAH_AI__OLLAMA_MODELS_DIR=/nonexistent "$selah" serve --port "$port" 2>"$dir/server.log" &
server_pid=$!
for _ in $(seq 1 300); do curl -s -o /dev/null "$base/health" && break; sleep 0.1; done
idle=$(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' /proc/$server_pid/status)

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
curl -sf -X POST "$base/api/v1/setup/founder" -H 'content-type: application/json' \
  -d '{"username":"founder","password":"bench-password-long"}' > /dev/null
token=$(curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"username":"founder","password":"bench-password-long"}' | json '["token"]')
auth=(-H "authorization: Bearer $token")
# Signing in hashes the password with Argon2 (tens of MiB, freed at once); reset the peak so
# that what follows measures the vault's transfers.
echo 5 > /proc/$server_pid/clear_refs
idle=$(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' /proc/$server_pid/status)
meta=$(echo '{"name":"bench.bin"}' | age -r "$recipient" | base64 -w0)
item=$(curl -sf "${auth[@]}" -X POST "$base/api/v1/vault/items" -H 'content-type: application/json' \
  -d "{\"kind\":\"file\",\"meta\":\"$meta\"}" | json '["id"]')
b64() { printf %s "$1" | base64 -w0; }
location=$(curl -sf -D - -o /dev/null "${auth[@]}" -X POST "$base/api/v1/vault/uploads" \
  -H 'tus-resumable: 1.0.0' -H "upload-length: $len" \
  -H "upload-metadata: item $(b64 "$item"),sha256 $(b64 "$sha")" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')

cat "$dir/file.age" > /dev/null # from the page cache, like the download's destination
rate() { awk -v b="$len" -v t="$1" -v n="$2" 'BEGIN { printf "%-34s %7.0f MB/s  %7.0f MiB/s  %6.2f s\n", n, b / t / 1e6, b / t / 1048576, t }'; }
t=$(curl -sf "${auth[@]}" -X PATCH "$base$location" -H 'tus-resumable: 1.0.0' \
  -H 'content-type: application/offset+octet-stream' -H 'upload-offset: 0' \
  -T "$dir/file.age" -o /dev/null -w '%{time_total}')
rate "$t" "upload (tus PATCH, ${size_mib} MiB)"
peak() { awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' /proc/$server_pid/status; }
echo "  server peak RSS so far: $(peak) (after sign-in, before the upload: $idle)"
t=$(curl -sf "${auth[@]}" "$base/api/v1/vault/items/$item/content" -o "$dir/down.age" -w '%{time_total}')
rate "$t" "download (to a file)"
echo "  server peak RSS so far: $(peak)"
cmp "$dir/file.age" "$dir/down.age" && rm "$dir/down.age"
t=$(curl -sf "${auth[@]}" "$base/api/v1/vault/items/$item/content" -o /dev/null -w '%{time_total}')
rate "$t" "download (to /dev/null)"
echo "server peak RSS: $(peak)"

# The CLI end to end against the age CLI on the same plaintext: `vault put` encrypts, hashes
# and uploads in one pass (nothing stored); `vault get` downloads and decrypts to a file (fsynced,
# then renamed). `age` encrypts and decrypts file to file, with no network. ROUNDS rounds
# (default 3) alternate the commands, so that the machine's drift hits them alike; each
# figure printed is the median of its rounds, with the range.
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$dir/plain"
mkdir -p "$dir/home/run" && chmod 700 "$dir/home/run"
cli() {
  env HOME="$dir/home" XDG_CACHE_HOME="$dir/home/cache" XDG_CONFIG_HOME="$dir/home/config" \
    XDG_RUNTIME_DIR="$dir/home/run" \
    SELAH_URL="$base" SELAH_TOKEN="$token" SELAH_VAULT_PASSPHRASE=bench-vault-passphrase \
    "$selah" vault "$@" 2>/dev/null
}
cli init > /dev/null
# Unlocked once, as a user would: otherwise each command spends about a second in scrypt.
cli unlock --for 1h > /dev/null
cli export-key -o "$dir/vault-key" > /dev/null
vault_recipient=$(age-keygen -y "$dir/vault-key")
seconds() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); awk -v s="$s" -v e="$e" 'BEGIN { print e - s }'; }
bytes=$((size_mib * 1024 * 1024))
rounds=${ROUNDS:-3}
declare -A times
for r in $(seq 1 "$rounds"); do
  sync; times[put]+=" $(seconds cli put "$dir/plain" --name "plain-$r.bin")"
  sync; times[get]+=" $(seconds cli get "plain-$r.bin" -o "$dir/plain.back")"
  cmp "$dir/plain" "$dir/plain.back" && rm "$dir/plain.back"
  times[getstdout]+=" $(seconds cli get "plain-$r.bin" -o -)"
  sync; times[enc]+=" $(seconds age -r "$recipient" -o "$dir/plain.age" "$dir/plain")"
  sync; times[dec]+=" $(seconds age -d -i "$dir/key" -o "$dir/plain.out" "$dir/plain.age")"
  cmp "$dir/plain" "$dir/plain.out" && rm "$dir/plain.out" "$dir/plain.age"
  # The same with the output flushed to disk, as Selah's is before it is renamed into place.
  sync; times[encsync]+=" $(seconds sh -c 'age -r "$1" -o "$2.age" "$2" && sync "$2.age"' - "$recipient" "$dir/plain")"
  sync; times[decsync]+=" $(seconds sh -c 'age -d -i "$1" -o "$2.out" "$2.age" && sync "$2.out"' - "$dir/key" "$dir/plain")"
  cmp "$dir/plain" "$dir/plain.out" && rm "$dir/plain.out" "$dir/plain.age"
  sync; times[lenc]+=" $(seconds cli encrypt "$dir/plain" -o "$dir/plain.age")"
  sync; times[ldec]+=" $(seconds cli decrypt "$dir/plain.age" -o "$dir/plain.out")"
  cmp "$dir/plain" "$dir/plain.out" && rm "$dir/plain.out" "$dir/plain.age"
  times[encnull]+=" $(seconds age -r "$recipient" "$dir/plain")"
  times[lencnull]+=" $(seconds cli encrypt "$dir/plain" -o -)"
  age -r "$recipient" -o "$dir/plain.age" "$dir/plain"
  times[decnull]+=" $(seconds age -d -i "$dir/key" "$dir/plain.age")"
  age -r "$vault_recipient" -o "$dir/plain.age" "$dir/plain"
  times[ldecnull]+=" $(seconds cli decrypt "$dir/plain.age" -o -)"
  rm "$dir/plain.age"
done
summary() { # NAME TIMES...: median MB/s over the rounds, and the range
  local name=$1; shift
  printf '%s\n' "$@" | sort -g | awk -v b="$bytes" -v n="$name" '{ t[NR] = $1 } END {
    m = t[int((NR + 1) / 2)];
    printf "%-34s %7.0f MB/s  %7.0f MiB/s  (median of %d: %.0f-%.0f MB/s)\n", n, b / m / 1e6, b / m / 1048576, NR, b / t[NR] / 1e6, b / t[1] / 1e6 }'
}
summary "selah vault put (encrypt + upload)" ${times[put]}
summary "selah vault get (download + decrypt)" ${times[get]}
summary "selah vault get -o - (no file)" ${times[getstdout]}
summary "age -r (file to file)" ${times[enc]}
summary "age -d (file to file)" ${times[dec]}
summary "age -r + sync (file to file)" ${times[encsync]}
summary "age -d + sync (file to file)" ${times[decsync]}
summary "selah vault encrypt (file to file)" ${times[lenc]}
summary "selah vault decrypt (file to file)" ${times[ldec]}
summary "age -r (to /dev/null)" ${times[encnull]}
summary "selah vault encrypt -o - (/dev/null)" ${times[lencnull]}
summary "age -d (to /dev/null)" ${times[decnull]}
summary "selah vault decrypt -o - (/dev/null)" ${times[ldecnull]}

# The server is stopped and the files written above are flushed first: on two cores the
# kernel's writeback of the last gigabytes would take a core from the in-process run.
kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
server_pid=
rm -f "$dir/plain" "$dir/file.age"
sync
echo
echo "== in process, ${size_mib} MiB generated on the fly: selah-vault against the age crate"
"$vault_bench" "$size_mib"
