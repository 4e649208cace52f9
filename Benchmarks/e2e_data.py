#!/usr/bin/env python3
"""The data of the end-to-end benchmark (Benchmarks/bench_e2e.py), seeded, written streaming into DIR.

    python3 Benchmarks/e2e_data.py DIR SET [SET ...]

Sets (each file is written in chunks of at most 50,000 rows, so memory stays small whatever the size):
  compare       ref.csv (200,000 rows) and cur.csv (50,000 rows), 20 numeric columns f00..f19, ~64 MB
  warm-ref      wref.csv: 100,000 rows x 100 numeric columns (the reference `profile` reads)
  warm-N        wcur_N.csv: N rows x 100 numeric columns (N = 10000, 100000, 1000000)
  big           big.csv: 20 numeric columns, rows until the file reaches 1 GB (10^9 bytes)
  big-M         the same, stopping at M megabytes (10^6 bytes), for quick runs
  kserve        kserve-v1.jsonl and kserve-oip.jsonl: every inference of sample-data/fraud/traffic.csv.gz as KServe
                payload-logger CloudEvents (structured mode, request + response; V1 and Open Inference Protocol bodies,
                the shapes of sample-data/capture/generate_capture.py)

Values: sums of four uniforms (bell-shaped, bounded), scaled and shifted per column, rounded to 9 decimals (about
12 bytes a cell, like the issue's 64 MB file); the current side of `compare` and `warm` shifts a third of the
columns so that some drift. Cells are written by polars' CSV writer (shortest round-trip text of each double).
Prints one JSON line per file: {"file", "rows", "bytes"}.
"""
import csv
import gzip
import json
import os
import sys

import numpy as np
import polars as pl

HERE = os.path.dirname(os.path.abspath(__file__))
TRAFFIC = os.path.join(HERE, "..", "sample-data", "fraud", "traffic.csv.gz")
CHUNK = 50_000


def columns(k):
    return [f"f{i:02d}" if k <= 100 else f"f{i:03d}" for i in range(k)]


def block(rng, rows, k, shifted):
    """rows x k values; column j has scale 1 + j % 7 and offset j % 5 (+ 0.15 x scale when `shifted` and j % 3 == 0)."""
    x = rng.random((rows, k)) + rng.random((rows, k)) + rng.random((rows, k)) + rng.random((rows, k))
    j = np.arange(k)
    scale = 1.0 + (j % 7)
    offset = (j % 5).astype(float) + (0.15 * scale * (j % 3 == 0) if shifted else 0.0)
    return np.round((x - 2.0) * 1.7320508 * scale + offset, 9)


def write_csv(path, rows, k, seed, shifted, max_bytes=None):
    """`rows` rows (or, with max_bytes, chunks until the file holds at least that many bytes)."""
    rng = np.random.default_rng(seed)
    names = columns(k)
    written = 0
    with open(path, "wb") as f:
        while True:
            n = CHUNK if max_bytes is not None else min(CHUNK, rows - written)
            if n <= 0:
                break
            pl.DataFrame(block(rng, n, k, shifted), schema=names, orient="row").write_csv(f, include_header=written == 0)
            written += n
            if max_bytes is not None and f.tell() >= max_bytes:
                break
    print(json.dumps({"file": os.path.basename(path), "rows": written, "bytes": os.path.getsize(path)}), flush=True)


NUMERIC = ["amount", "hour_of_day", "distance_from_home_km", "transactions_last_24h", "account_age_days", "avg_amount_30d"]
TEXT = ["merchant_category", "country", "device_type", "card_present"]


def ce(kind, r, data):
    return {"specversion": "1.0", "type": f"org.kubeflow.serving.inference.{kind}", "id": r["request_id"],
            "source": "http://localhost:9081/", "time": r["timestamp"], "datacontenttype": "application/json",
            "inferenceservicename": "fraud", "namespace": "payments", "component": "predictor", "endpoint": "", "data": data}


def write_kserve(d):
    n = 0
    with gzip.open(TRAFFIC, "rt", newline="") as src, open(f"{d}/kserve-v1.jsonl", "w") as v1, open(f"{d}/kserve-oip.jsonl", "w") as oip:
        for r in csv.DictReader(src):
            inst = {c: float(r[c]) for c in NUMERIC if r[c] != ""}
            inst.update({c: r[c] for c in TEXT})
            score = float(r["score"])
            v1.write(json.dumps(ce("request", r, {"instances": [inst]})) + "\n")
            v1.write(json.dumps(ce("response", r, {"predictions": [{"score": score}]})) + "\n")
            tensors = [{"name": c, "shape": [1], "datatype": "FP64" if c in NUMERIC else "BYTES", "data": [inst[c]]}
                       for c in NUMERIC + TEXT if c in inst]
            oip.write(json.dumps(ce("request", r, {"id": r["request_id"], "inputs": tensors})) + "\n")
            oip.write(json.dumps(ce("response", r, {"model_name": "fraud", "model_version": r["model_version"], "id": r["request_id"],
                                                    "outputs": [{"name": "score", "shape": [1, 1], "datatype": "FP32", "data": [score]}]})) + "\n")
            n += 1
    for name in ("kserve-v1.jsonl", "kserve-oip.jsonl"):
        print(json.dumps({"file": name, "rows": n, "bytes": os.path.getsize(f"{d}/{name}")}), flush=True)


def main():
    d = sys.argv[1]
    for s in sys.argv[2:]:
        if s == "compare":
            write_csv(f"{d}/ref.csv", 200_000, 20, seed=1801, shifted=False)
            write_csv(f"{d}/cur.csv", 50_000, 20, seed=1802, shifted=True)
        elif s == "warm-ref":
            write_csv(f"{d}/wref.csv", 100_000, 100, seed=1803, shifted=False)
        elif s.startswith("warm-"):
            n = int(s[5:])
            write_csv(f"{d}/wcur_{n}.csv", n, 100, seed=1804 + n, shifted=True)
        elif s == "big":
            write_csv(f"{d}/big.csv", 0, 20, seed=1805, shifted=False, max_bytes=10**9)
        elif s.startswith("big-"):
            write_csv(f"{d}/big.csv", 0, 20, seed=1805, shifted=False, max_bytes=int(s[4:]) * 10**6)
        elif s == "kserve":
            write_kserve(d)
        else:
            sys.exit(f"e2e_data.py: unknown set {s!r} (compare, warm-ref, warm-N, big, big-M, kserve)")


if __name__ == "__main__":
    main()
