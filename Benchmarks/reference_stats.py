#!/usr/bin/env python3
"""The reference side of `make bench`: scipy.stats.ks_2samp + a numpy PSI on the same data.

    python3 Benchmarks/reference_stats.py DIR WORKLOAD REPS

DIR holds raw little-endian float64 files written by drift-bench (w1_ref.f64, w1_cur.f64,
w2_ref.f64, w2_cur.f64 with W2's features stored one after another). Prints one JSON line:
seconds per repetition, the median, peak RSS, and the results for cross-checking.
"""
import json
import resource
import sys
import time

import numpy as np
import scipy
from scipy import stats


def psi(ref, cur, bins=10, eps=1e-4):
    edges = np.unique(np.quantile(ref, np.arange(1, bins) / bins))
    p = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1) / len(ref)
    q = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
    p, q = np.maximum(p, eps), np.maximum(q, eps)
    return float(np.sum((q - p) * np.log(q / p)))


def peak_rss_mb():
    """VmHWM of this process (ru_maxrss would include the parent's peak, inherited across exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main():
    d, workload, reps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if workload == "w1":
        refs = [np.fromfile(f"{d}/w1_ref.f64", dtype="<f8")]
        curs = [np.fromfile(f"{d}/w1_cur.f64", dtype="<f8")]
    else:
        nf, nr, nc = 100, 100_000, 10_000
        refs = list(np.fromfile(f"{d}/w2_ref.f64", dtype="<f8").reshape(nf, nr))
        curs = list(np.fromfile(f"{d}/w2_cur.f64", dtype="<f8").reshape(nf, nc))
    ks_times, psi_times, results = [], [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        ks = [stats.ks_2samp(r, c) for r, c in zip(refs, curs)]
        t1 = time.perf_counter()
        ps = [psi(r, c) for r, c in zip(refs, curs)]
        t2 = time.perf_counter()
        ks_times.append(t1 - t0)
        psi_times.append(t2 - t1)
        results = [[float(k.statistic), float(k.pvalue), p] for k, p in zip(ks, ps)]
    total = [a + b for a, b in zip(ks_times, psi_times)]
    print(json.dumps({
        "scipy": scipy.__version__, "numpy": np.__version__,
        "ks_median": float(np.median(ks_times)), "psi_median": float(np.median(psi_times)),
        "total_median": float(np.median(total)), "total": total,
        "peak_rss_mb": peak_rss_mb(),
        "results": results,
    }))


if __name__ == "__main__":
    main()
