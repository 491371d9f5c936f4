#!/usr/bin/env python3
"""bench/llm's HTTP part: starts `selah serve` on a fresh data directory holding the model, then
measures streaming generation through Selah's API with the same question as examples/direct.rs:

  - POST /api/v1/chat/sessions/{id}/messages (server-sent `token` / `done` events), one session
    per concurrent chat;
  - POST /v1/chat/completions with "stream": true (OpenAI chunks, usage in the last one).

For each endpoint and 1, 4 and 8 concurrent chats: time to first token (request sent to the first
token's bytes), per-stream generation tokens/s ((completion_tokens - 1) over first token to done),
aggregate tokens/s (all completion tokens over the wall time). Best of RUNS by aggregate. Prints
one JSON object per line. Standard library only; traffic goes to 127.0.0.1 only.
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

QUESTION = ("Write a long, detailed essay about the history of the Roman Empire, from the "
            "founding of Rome to the fall of Constantinople, with many names and dates.")
PASSWORD = "bench-founder-password-1"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Client:
    def __init__(self, port, token=None):
        self.port, self.token = port, token

    def call(self, method, path, body=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        if resp.status >= 300:
            raise RuntimeError(f"{method} {path}: {resp.status} {data[:300]!r}")
        return json.loads(data) if data else None

    def stream(self, path, body, on_event):
        """POSTs and feeds each SSE (event, data) to on_event; returns when the stream ends."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream",
                   "Authorization": f"Bearer {self.token}"}
        conn.request("POST", path, json.dumps(body), headers)
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError(f"POST {path}: {resp.status} {resp.read()[:300]!r}")
        event, data = "message", []
        while True:
            line = resp.readline()
            if not line:
                break
            line = line.decode().rstrip("\r\n")
            if line == "":
                if data:
                    on_event(event, "\n".join(data))
                event, data = "message", []
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        conn.close()


def one_chat(client, endpoint, session, n_gen, out):
    result = {"first": None, "completion": 0}
    start = time.perf_counter()

    def on_event(event, data):
        now = time.perf_counter()
        if endpoint == "messages":
            if event == "token" and result["first"] is None:
                result["first"] = now
            elif event == "done":
                result["completion"] = json.loads(data)["usage"]["completion_tokens"]
                result["end"] = now
            elif event == "error":
                raise RuntimeError(data)
        else:
            if data == "[DONE]":
                result.setdefault("end", now)
                return
            chunk = json.loads(data)
            if chunk.get("choices") and chunk["choices"][0].get("delta", {}).get("content"):
                if result["first"] is None:
                    result["first"] = now
            if chunk.get("usage"):
                result["completion"] = chunk["usage"]["completion_tokens"]
                result["end"] = now

    params = {"temperature": 0, "max_tokens": n_gen}
    if endpoint == "messages":
        client.stream(f"/api/v1/chat/sessions/{session}/messages",
                      {"content": QUESTION, "params": params}, on_event)
    else:
        body = {"messages": [{"role": "user", "content": QUESTION}], "stream": True,
                "stream_options": {"include_usage": True}, **params}
        client.stream("/v1/chat/completions", body, on_event)
    first = result["first"] or result["end"]
    out.append({"ttft": first - start, "completion": result["completion"],
                "gen_time": result["end"] - first})


def start_server(binary, model, threads, batch_threads):
    """`selah serve` on a fresh data directory holding MODEL, with a founder signed in and the
    model warmed up. Returns (process, signed-in client, work directory, log file)."""
    work = tempfile.mkdtemp(prefix="selah-llm-bench-")
    models = os.path.join(work, "data", "models")
    os.makedirs(models)
    dest = os.path.join(models, os.path.basename(model))
    try:
        os.link(model, dest)
    except OSError:
        shutil.copy(model, dest)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "SELAH_CONFIG"}
    env.update({"SELAH_RATE_LIMIT__ENABLED": "false", "SELAH_AI__THREADS": str(threads),
                "SELAH_AI__BATCH_THREADS": str(batch_threads),
                "SELAH_AI__MAX_SEQUENCES": "8", "SELAH_AI__CONTEXT_SIZE": "2048",
                # Every request asks the same question: with the prompt cache on, all but the
                # first would skip their prompt, and the comparison with llama.cpp driven
                # directly would no longer be like for like.
                "SELAH_AI__PROMPT_CACHE": "false"})
    log = open(os.path.join(work, "serve.log"), "w")
    proc = subprocess.Popen([binary, "--data-dir", os.path.join(work, "data"), "serve",
                             "--port", str(port)], env=env, stderr=log, stdout=log)
    client = Client(port)
    for _ in range(3000):
        try:
            client.call("GET", "/health")
            break
        except (OSError, RuntimeError):
            if proc.poll() is not None:
                sys.exit(f"selah serve exited; see {log.name}")
            time.sleep(0.01)
    client.call("POST", "/api/v1/setup/founder", {"username": "founder", "password": PASSWORD})
    token = client.call("POST", "/api/v1/auth/login",
                        {"username": "founder", "password": PASSWORD})["token"]
    client = Client(port, token)
    # Warm-up: the model loads on first use.
    one_chat(client, "completions", None, 8, [])
    return proc, client, work, log


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--gen", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    proc, client, work, log = start_server(args.bin, args.model, args.threads,
                                           args.batch_threads)
    try:
        for endpoint in ("messages", "completions"):
            for concurrency in (1, 4, 8):
                best = None
                for _ in range(args.runs):
                    sessions = [None] * concurrency
                    if endpoint == "messages":
                        sessions = [client.call("POST", "/api/v1/chat/sessions",
                                                {"title": f"bench {i}"})["id"]
                                    for i in range(concurrency)]
                    out = []
                    threads = [threading.Thread(target=one_chat,
                                                args=(client, endpoint, s, args.gen, out))
                               for s in sessions]
                    start = time.perf_counter()
                    for t in threads:
                        t.start()
                    for t in threads:
                        t.join()
                    wall = time.perf_counter() - start
                    if len(out) != concurrency:
                        sys.exit(f"{concurrency - len(out)} chats failed; see {log.name}")
                    aggregate = sum(r["completion"] for r in out) / wall
                    per_stream = sum((r["completion"] - 1) / r["gen_time"] for r in out) / len(out)
                    ttft_ms = 1000 * sum(r["ttft"] for r in out) / len(out)
                    if best is None or aggregate > best[0]:
                        best = (aggregate, per_stream, ttft_ms)
                print(json.dumps({"endpoint": endpoint, "concurrency": concurrency,
                                  "gen_tps_per_stream": round(best[1], 1),
                                  "aggregate_tps": round(best[0], 1),
                                  "ttft_ms": round(best[2], 2)}), flush=True)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
