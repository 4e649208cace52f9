#!/usr/bin/env python3
"""Embedding traffic of a sample ticket router: its input is a 128-dimensional text embedding (from an upstream
encoder), its output a confidence. 2026-11-20 00:00-18:00 UTC, 300 requests an hour, as the KServe logger
captures them (structured CloudEvents, Open Inference Protocol: the request's FP32 tensor `embedding` of shape
[1, 128], the response's `confidence`).

The embeddings are a mixture of 6 topic clusters in a 12-dimensional subspace plus isotropic noise. From 12:00
on, one topic (cluster 3: "billing") moves: its centre shifts by 2.5 along a direction of its own, and it takes
a larger share of the traffic (from 1/6 to 1/3) — the kind of change a product launch brings. Hours 00-06 are
the monitor's reference window; 06-12 are checked and must not alarm; 12-18 must.

    python3 sample-data/embeddings/generate_embeddings.py   # writes sample-data/embeddings/embedding-traffic.jsonl.gz
"""
import gzip
import io
import json
import os
from datetime import datetime, timedelta, timezone

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
START = datetime(2026, 11, 20, tzinfo=timezone.utc)
D, SUB, K = 128, 12, 6
PER_HOUR, HOURS, SHIFT_HOUR = 300, 18, 12


def main():
    rng = np.random.default_rng(20261120)
    basis = np.linalg.qr(rng.normal(size=(D, SUB)))[0]            # 128 × 12, orthonormal
    centres = rng.normal(0, 2.0, size=(K, SUB))
    scales = rng.uniform(0.6, 1.2, size=K)
    shift = rng.normal(size=SUB)
    shift = 2.5 * shift / np.linalg.norm(shift)
    weights = np.full(K, 1 / K)
    drift_weights = np.array([0.8, 0.8, 0.8, 2.0, 0.8, 0.8]) / 6.0
    w_conf = rng.normal(size=SUB)
    path = os.path.join(HERE, "embedding-traffic.jsonl.gz")
    events = 0
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz, \
            io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as f:
        for hour in range(HOURS):
            drifted = hour >= SHIFT_HOUR
            p = drift_weights if drifted else weights
            topic = rng.choice(K, size=PER_HOUR, p=p / p.sum())
            latent = centres[topic] + rng.normal(size=(PER_HOUR, SUB)) * scales[topic, None]
            if drifted:
                latent[topic == 3] += shift
            emb = latent @ basis.T + rng.normal(0, 0.15, size=(PER_HOUR, D))
            conf = 1 / (1 + np.exp(-(latent @ w_conf) / 4))
            for k in range(PER_HOUR):
                rid = f"emb-{hour:02d}-{k:04d}"
                t = START + timedelta(hours=hour, seconds=k * 3600 / PER_HOUR)
                stamp = t.strftime("%Y-%m-%dT%H:%M:%SZ")
                common = {"specversion": "1.0", "id": rid, "source": "http://ticket-router-predictor.support.svc/", "time": stamp,
                          "datacontenttype": "application/json", "inferenceservicename": "ticket-router", "namespace": "support",
                          "component": "predictor", "endpoint": "", "modelversion": "v7"}
                request = dict(common, type="org.kubeflow.serving.inference.request",
                               data={"id": rid, "inputs": [{"name": "embedding", "shape": [1, D], "datatype": "FP32",
                                                            "data": [round(float(x), 3) for x in emb[k]]}]})
                response = dict(common, type="org.kubeflow.serving.inference.response",
                                data={"model_name": "ticket-router", "model_version": "v7", "id": rid,
                                      "outputs": [{"name": "confidence", "shape": [1, 1], "datatype": "FP32", "data": [round(float(conf[k]), 4)]}]})
                f.write(json.dumps(request, separators=(",", ":")) + "\n")
                f.write(json.dumps(response, separators=(",", ":")) + "\n")
                events += 2
    print(f"wrote {path} ({events} events, {os.path.getsize(path) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
