#!/usr/bin/env bash
# Vault encryption benchmark: selah-vault against the age crate (in process, 1 GiB made on
# the fly) and against the `age` command on a 1 GiB file in /tmp (written once, deleted at
# the end). Needs the Debian package `age`.
#
#   bench/vault/run.sh [SIZE_MIB]        (default 1024)
#
# Honours CARGO_TARGET_DIR; waits while /tmp/selah-bench.lock exists (another benchmark
# needs an idle machine then).
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-1024}
wait_idle() { while [ -e /tmp/selah-bench.lock ]; do sleep 20; done; }

wait_idle
# The whole workspace's feature set, so nothing already built is rebuilt for this.
cargo build --release --locked --workspace --example vault_bench >&2
bin=${CARGO_TARGET_DIR:-target}/release/examples/vault_bench
command -v age >/dev/null || { echo "bench.sh: the age command is missing (apt-get install age)" >&2; exit 1; }

echo "== in process (plaintext generated on the fly)"
wait_idle
"$bin" "$size_mib"

echo
echo "== files: selah-vault vs age $(age --version) on a ${size_mib} MiB file in /tmp"
dir=$(mktemp -d /tmp/selah-vault-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$dir/plain"
age-keygen -o "$dir/key" 2>/dev/null
recipient=$(age-keygen -y "$dir/key")
cat "$dir/plain" > /dev/null # warm the page cache for both sides

# Prints the rate of one command in MiB/s of plaintext.
timed() {
  local name=$1; shift
  wait_idle
  sync # no writeback of the previous run's output during this one
  local start end
  start=$(date +%s.%N)
  "$@" > /dev/null
  end=$(date +%s.%N)
  awk -v n="$name" -v s="$start" -v e="$end" -v m="$size_mib" \
    'BEGIN { printf "%-48s %8.0f MiB/s  %6.2f s\n", n, m / (e - s), e - s }'
}

timed "encrypt: age CLI" age -r "$recipient" -o "$dir/by-age.age" "$dir/plain"
timed "encrypt: selah file-encrypt" "$bin" file-encrypt "$dir/plain" "$dir/by-selah.age" "$recipient"
sync; "$bin" file-encrypt "$dir/plain" "$dir/by-selah.age" "$recipient" | sed 's/^/  (own report) /'
timed "decrypt: age CLI" age -d -i "$dir/key" -o "$dir/out-age" "$dir/by-age.age"
cmp "$dir/plain" "$dir/out-age" && rm "$dir/out-age"
timed "decrypt: selah file-decrypt" "$bin" file-decrypt "$dir/by-selah.age" "$dir/out-selah" "$dir/key"
cmp "$dir/plain" "$dir/out-selah" && rm "$dir/out-selah"
sync; "$bin" file-decrypt "$dir/by-selah.age" "$dir/out-selah" "$dir/key" | sed 's/^/  (own report) /'
cmp "$dir/plain" "$dir/out-selah" && rm "$dir/out-selah"
# Cross-check at full size: each side opens the other's file.
age -d -i "$dir/key" "$dir/by-selah.age" | cmp - "$dir/plain"
"$bin" file-decrypt "$dir/by-age.age" "$dir/out-cross" "$dir/key" > /dev/null
cmp "$dir/plain" "$dir/out-cross"
echo "cross-check: both files decrypt with both tools"
