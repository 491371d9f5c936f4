#!/usr/bin/env python3
"""bench/search's baseline: what peer products use, sentence-transformers + chromadb (PyPI), on
the same passages, questions and model files as Selah (all run on the CPU, in-process):

  - embedding throughput: the passages search_bench.rs wrote (passages.jsonl), batch 32;
  - agreement: cosine similarity between sentence-transformers' vector and Selah's for every
    passage (our_vectors.f32), mean and minimum: Selah's BERT must match the reference;
  - ingestion: INGEST passages added to a fresh persistent chromadb collection with the
    sentence-transformers embedding function (embedding included), timed;
  - search latency at TARGET: TARGET vectors (the same noisy copies as search_bench.rs makes,
    recomputed here) added to a collection, then every question (embedded once) queried 10
    times, k=10: P50/P99 of `collection.query`.

Prints one JSON object per line.
"""

import argparse
import json
import os
import shutil
import tempfile
import time

import numpy as np

# The noise search_bench.rs adds to each copied vector (its NOISE).
NOISE = 0.1


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round((len(xs) - 1) * p))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--target", type=int, default=100000)
    ap.add_argument("--ingest-passages", type=int, default=10000)
    args = ap.parse_args()

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from sentence_transformers import SentenceTransformer
    import chromadb

    model = SentenceTransformer(args.model, device="cpu")
    texts = [json.loads(l)["text"] for l in open(os.path.join(args.work, "passages.jsonl")) if l.strip()]
    questions = [json.loads(l)["question"] for l in open(os.path.join(args.work, "questions.jsonl")) if l.strip()]

    model.encode(texts[:64], batch_size=32)  # warm-up
    start = time.perf_counter()
    ref = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    secs = time.perf_counter() - start
    print(json.dumps({"part": "baseline_embed", "passages": len(texts), "seconds": secs,
                      "passages_per_s": len(texts) / secs}), flush=True)

    ours = np.fromfile(os.path.join(args.work, "our_vectors.f32"), dtype="<f4").reshape(len(texts), -1)
    cos = (ours * ref).sum(axis=1)
    print(json.dumps({"part": "agreement", "passages": len(texts), "mean_cosine": float(cos.mean()),
                      "min_cosine": float(cos.min())}), flush=True)

    class Embed(chromadb.EmbeddingFunction):
        def __init__(self):
            pass

        def __call__(self, input):
            return model.encode(list(input), batch_size=32, normalize_embeddings=True).tolist()

    work = tempfile.mkdtemp(prefix="selah-chroma-")
    try:
        client = chromadb.PersistentClient(path=os.path.join(work, "ingest"))
        col = client.create_collection("bench", embedding_function=Embed(),
                                       metadata={"hnsw:space": "cosine"})
        n = 0
        start = time.perf_counter()
        while n < args.ingest_passages:
            chunk = texts[: min(len(texts), args.ingest_passages - n)]
            for i in range(0, len(chunk), 256):
                part = chunk[i:i + 256]
                col.add(ids=[f"p{n + i + j}" for j in range(len(part))], documents=part)
            n += len(chunk)
        secs = time.perf_counter() - start
        print(json.dumps({"part": "baseline_ingest", "passages": n, "seconds": secs,
                          "passages_per_s": n / secs}), flush=True)

        # TARGET vectors: the real ones, then noisy copies (same scheme as search_bench.rs).
        rng = np.random.default_rng(42)
        reps = []
        total = 0
        while total < args.target:
            block = ref if total == 0 else ref + NOISE * (rng.random(ref.shape, dtype=np.float32) - 0.5)
            block = block[: args.target - total]
            block = block / np.linalg.norm(block, axis=1, keepdims=True)
            reps.append(block)
            total += len(block)
        big = np.concatenate(reps).astype(np.float32)
        col = client.create_collection("big", metadata={"hnsw:space": "cosine"})
        start = time.perf_counter()
        for i in range(0, len(big), 5000):
            col.add(ids=[f"v{j}" for j in range(i, min(i + 5000, len(big)))],
                    embeddings=big[i:i + 5000])
        load = time.perf_counter() - start
        qv = model.encode(questions, batch_size=32, normalize_embeddings=True)
        for q in qv[:5]:
            col.query(query_embeddings=[q.tolist()], n_results=10)
        times = []
        for _ in range(10):
            for q in qv:
                t = time.perf_counter()
                col.query(query_embeddings=[q.tolist()], n_results=10)
                times.append((time.perf_counter() - t) * 1000)
        print(json.dumps({"part": "baseline_search", "vectors": len(big), "load_seconds": load,
                          "p50_ms": pct(times, 0.5), "p99_ms": pct(times, 0.99)}), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
