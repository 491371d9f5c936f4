#!/usr/bin/env python3
"""Single-stream generation speed of the three paths, measured in alternation (issue 3's "API
generation at least 95% of the direct engine's").

`run.sh` measures each path in its own stretch of minutes and keeps the best run of each; on a
shared two-core host the speed of the same binary drifts by several percent from one stretch to
the next, which is as much as the gap being judged. Here every round runs, back to back: the
direct llama.cpp loop (examples/direct.rs, one run), the engine (examples/engine_bench.rs, its
single-stream line), and three streamed `/v1/chat/completions` replies from one `selah serve`
that stays up (idle while the others run). Reports each path's median and the median of the
per-round ratios HTTP / direct and engine / direct.

Usage: interleaved.py --examples DIR --bin SELAH --model GGUF [--rounds 6] [--gen 128]
       [--threads 1] [--batch-threads 2]
Prints one JSON object per round and a summary line.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from http_bench import one_chat, start_server  # noqa: E402


def first_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", required=True)
    ap.add_argument("--bin", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--gen", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-threads", type=int, default=2)
    args = ap.parse_args()
    t, bt, gen = str(args.threads), str(args.batch_threads), str(args.gen)

    proc, client, work, _log = start_server(args.bin, args.model, args.threads,
                                            args.batch_threads)
    rounds = []
    try:
        for i in range(args.rounds):
            direct = first_json([os.path.join(args.examples, "direct"), args.model, gen, t, "1",
                                 bt])["gen_tps"]
            # engine_bench prints concurrency 1 first; its 4 and 8 are not needed here.
            engine = first_json([os.path.join(args.examples, "engine_bench"), args.model, gen,
                                 t, "1", bt])["gen_tps_per_stream"]
            http = []
            for _ in range(3):
                out = []
                one_chat(client, "completions", None, args.gen, out)
                http.append((out[0]["completion"] - 1) / out[0]["gen_time"])
            r = {"round": i + 1, "direct": direct, "engine": engine,
                 "http": round(statistics.median(http), 1)}
            rounds.append(r)
            print(json.dumps(r), flush=True)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(work, ignore_errors=True)

    med = {k: statistics.median(r[k] for r in rounds) for k in ("direct", "engine", "http")}
    ratio = {k: statistics.median(r[k] / r["direct"] for r in rounds) for k in ("engine", "http")}
    print(json.dumps({"summary": True, "rounds": len(rounds),
                      "median_tps": {k: round(v, 1) for k, v in med.items()},
                      "median_ratio_to_direct": {k: round(v, 3) for k, v in ratio.items()}}),
          flush=True)


if __name__ == "__main__":
    main()
