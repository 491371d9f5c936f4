#!/usr/bin/env python3
"""bench/search's HTTP part, against `selah serve` (standard library only, loopback only):

  - ingestion: a fresh data directory holding the embedding model; the corpus files are uploaded
    (again and again, as new documents, until about INGEST passages) and timed from the first
    upload until every document is ready; reports passages and passages/s;
  - search latency: the data directory search_bench.rs wrote (TARGET passages) is served, and
    every question is searched 10 times per mode (hybrid, fulltext, vector, k=10) after a
    warm-up; reports P50/P99 of the request time as the client sees it; then the same requests
    from the Rust client (examples/search_latency.rs), which takes less of the shared cores.

Prints one JSON object per line.
"""

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import uuid

PASSWORD = "bench-password-long"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Client:
    def __init__(self, port):
        self.port, self.token = port, None
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def call(self, method, path, body=None, ctype="application/json"):
        headers = {"Content-Type": ctype}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        self.conn.request(method, path, data, headers)
        resp = self.conn.getresponse()
        raw = resp.read()
        if resp.status >= 300:
            raise RuntimeError(f"{method} {path}: {resp.status} {raw[:300]!r}")
        return json.loads(raw) if raw else None


def serve(binary, data, log_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SELAH_CONFIG"}
    env.update({"SELAH_RATE_LIMIT__ENABLED": "false", "SELAH_LOG__TO_FILE": "false",
                "SELAH_AI__OLLAMA_MODELS_DIR": "/nonexistent"})
    log = open(log_path, "w")
    proc = subprocess.Popen([binary, "--data-dir", data, "serve", "--port", str(port)],
                            env=env, stdout=log, stderr=log)
    for _ in range(3000):
        try:
            Client(port).call("GET", "/health")
            return proc, port
        except (OSError, RuntimeError):
            time.sleep(0.01)
    proc.kill()
    raise RuntimeError("selah did not start; see " + log_path)


def link_model(data, embed):
    models = os.path.join(data, "models")
    os.makedirs(models, exist_ok=True)
    dest = os.path.join(models, "all-MiniLM-L6-v2")
    if not os.path.exists(dest):
        os.symlink(embed, dest)


def multipart(name, content):
    boundary = "selah-bench-" + uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n"
            ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def ingest(args, work):
    data = os.path.join(work, "ingest")
    link_model(data, args.embed)
    proc, port = serve(args.bin, data, os.path.join(work, "ingest.log"))
    try:
        c = Client(port)
        c.call("POST", "/api/v1/setup/founder", {"username": "bench", "password": PASSWORD})
        c.token = c.call("POST", "/api/v1/auth/login", {"username": "bench", "password": PASSWORD})["token"]
        files = sorted(os.listdir(args.corpus))
        # Warm-up: the model loads and the first document is indexed before the clock starts.
        ctype, body = multipart("warmup.txt", b"Warm-up document about tide tables.")
        warm = c.call("POST", "/api/v1/docs/documents", body, ctype)["id"]
        while c.call("GET", f"/api/v1/docs/documents/{warm}")["state"] != "ready":
            time.sleep(0.05)
        ids, passages, copy = [], 0, 0
        start = time.perf_counter()
        # Upload in rounds; each round's passages are known once it is indexed.
        while passages < args.ingest_passages:
            round_ids = []
            for f in files:
                with open(os.path.join(args.corpus, f), "rb") as fh:
                    ctype, body = multipart(f"{copy}-{f}", fh.read())
                round_ids.append(c.call("POST", "/api/v1/docs/documents", body, ctype)["id"])
            for i in round_ids:
                while True:
                    d = c.call("GET", f"/api/v1/docs/documents/{i}")
                    if d["state"] in ("ready", "failed"):
                        passages += d["passages"]
                        break
                    time.sleep(0.05)
            ids += round_ids
            copy += 1
        secs = time.perf_counter() - start
        print(json.dumps({"part": "http_ingest", "documents": len(ids), "passages": passages,
                          "seconds": secs, "passages_per_s": passages / secs}), flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round((len(xs) - 1) * p))]


def search_latency(args, work):
    data = os.path.join(work, "big")
    shutil.copytree(args.big_data, data)
    link_model(data, args.embed)
    proc, port = serve(args.bin, data, os.path.join(work, "search.log"))
    try:
        c = Client(port)
        c.token = c.call("POST", "/api/v1/auth/login", {"username": "bench", "password": PASSWORD})["token"]
        questions = [json.loads(l)["question"] for l in open(args.questions) if l.strip()]
        # Wait until the vector index is loaded (vector search answers).
        q0 = urllib.parse.quote(questions[0])
        for _ in range(6000):
            if c.call("GET", f"/api/v1/search?q={q0}&mode=vector&k=1"):
                break
            time.sleep(0.1)
        # How long the server took to build its full-text index from the store at start.
        with open(os.path.join(work, "search.log"), errors="replace") as log:
            for line in log:
                if "full-text index loaded" in line:
                    m = re.search(r'"?ms"?[=:]\s*(\d+)', line)
                    n = re.search(r'"?passages"?[=:]\s*(\d+)', line)
                    print(json.dumps({"part": "fulltext_index_load",
                                      "passages": int(n.group(1)) if n else None,
                                      "ms": int(m.group(1)) if m else None}), flush=True)
        for mode in ("hybrid", "fulltext", "vector"):
            for q in questions[:5]:
                c.call("GET", f"/api/v1/search?q={urllib.parse.quote(q)}&k=10&mode={mode}")
            times = []
            for _ in range(10):
                for q in questions:
                    t = time.perf_counter()
                    c.call("GET", f"/api/v1/search?q={urllib.parse.quote(q)}&k=10&mode={mode}")
                    times.append((time.perf_counter() - t) * 1000)
            print(json.dumps({"part": "http_search", "client": "python", "mode": mode,
                              "requests": len(times), "p50_ms": pct(times, 0.5),
                              "p99_ms": pct(times, 0.99)}), flush=True)
        # The same requests from a client that takes far less of the shared cores.
        if args.latency_client:
            subprocess.run([args.latency_client, f"http://127.0.0.1:{port}", c.token,
                            args.questions, "10"], check=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--embed", required=True)
    ap.add_argument("--questions", required=True)
    ap.add_argument("--big-data", required=True)
    ap.add_argument("--ingest-passages", type=int, default=10000)
    ap.add_argument("--latency-client", help="search_latency example binary (Rust client)")
    ap.add_argument("--skip-ingest", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="selah-search-http-")
    try:
        if not args.skip_ingest:
            ingest(args, work)
        search_latency(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
