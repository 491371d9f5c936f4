#!/usr/bin/env python3
"""Writes crates/selah-ai/tests/fixtures/minilm-reference.json: sentence-transformers' own vectors
for a few texts (short, long, past the model's 256-token window, punctuation and accents), which
crates/selah-ai/tests/embed.rs compares Selah's embedder against.

Run by hand when the texts change, with sentence-transformers installed (bench/search/run.sh's
venv has it): ~/.cache/selah/bench-venv/bin/python scripts/make-embed-reference.py MODEL_DIR
"""
import json
import sys
from pathlib import Path

from sentence_transformers import SentenceTransformer

TEXTS = [
    "Hello.",
    "How do I compress a folder into an archive?",
    "Use tar with the -z flag to create a gzip-compressed tarball of a directory.",
    "Café au lait, naïve façade — résumé: 42% of «quoted» text & symbols (#, @, ~).",
    " ".join(["The lighthouse keeper trims the wick and watches the sea."] * 4),
    "fsync() transfers (\"flushes\") all modified in-core data of the file referred to by the "
    "file descriptor fd to the disk device " * 12,
]

model = SentenceTransformer(sys.argv[1], device="cpu")
vectors = model.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
out = Path(__file__).resolve().parent.parent / "crates/selah-ai/tests/fixtures/minilm-reference.json"
rows = [json.dumps({"text": t, "vector": [round(float(x), 7) for x in v]}, ensure_ascii=False)
        for t, v in zip(TEXTS, vectors)]
out.write_text("[\n" + ",\n".join(rows) + "\n]\n")
print(f"wrote {out}")
