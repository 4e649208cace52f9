#!/usr/bin/env python3
"""The reference side of `make bench`'s in-memory pairings: scipy.stats.ks_2samp + a numpy PSI on the same data.

    python3 Benchmarks/reference_stats.py DIR WORKLOAD

DIR holds raw little-endian float64 files written by drift-bench (w1_ref.f64, w1_cur.f64, w2_ref.f64, w2_cur.f64
with W2's features stored one after another). WORKLOAD: w1, w2-cold (from the raw arrays, as a user calls scipy),
w2-warm (given what drift-worker's profile gives it: each reference sorted, its quantile edges and bin proportions,
prepared before the first run and not timed; per check only the current side is sorted).

The process stays up so that drift-bench can alternate it with its own child: each line `run` on stdin runs the
workload once and prints {"seconds", "ks", "psi"}; at end of input it prints {"peak_rss_mb", "cpus", "results", the
versions}.
"""
import json
import os
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


def ks_sorted(a, b):
    """scipy.stats.ks_2samp(a, b) (two-sided, auto) for ascending a and b, without its sorts of the inputs."""
    n1, n2 = len(a), len(b)
    if max(n1, n2) <= 10_000:  # scipy's exact method: call it as is
        r = stats.ks_2samp(a, b)
        return float(r.statistic), float(r.pvalue)
    both = np.concatenate([a, b])
    diff = np.searchsorted(a, both, side="right") / n1 - np.searchsorted(b, both, side="right") / n2
    d = max(float(np.clip(-diff.min(), 0, 1)), float(diff.max()))
    m, n = sorted([float(n1), float(n2)], reverse=True)
    return d, float(np.clip(stats.kstwo.sf(d, np.round(m * n / (m + n))), 0, 1))


def cpus_allowed():
    """The CPUs this process may run on, as /proc/self/status lists them ("0" under taskset -c 0)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
    return ",".join(map(str, sorted(os.sched_getaffinity(0))))


def main():
    d, workload = sys.argv[1], sys.argv[2]
    if workload == "w1":
        refs = [np.fromfile(f"{d}/w1_ref.f64", dtype="<f8")]
        curs = [np.fromfile(f"{d}/w1_cur.f64", dtype="<f8")]
    else:
        nf, nr, nc = 100, 100_000, 10_000
        refs = list(np.fromfile(f"{d}/w2_ref.f64", dtype="<f8").reshape(nf, nr))
        curs = list(np.fromfile(f"{d}/w2_cur.f64", dtype="<f8").reshape(nf, nc))
    if workload == "w2-warm":
        refs = [np.sort(r) for r in refs]
        edges = [np.unique(np.quantile(r, np.arange(1, 10) / 10)) for r in refs]
        props = [np.maximum(np.bincount(np.searchsorted(e, r, side="right"), minlength=len(e) + 1) / len(r), 1e-4)
                 for e, r in zip(edges, refs)]

        def once():
            t0 = time.perf_counter()
            sorted_curs = [np.sort(c) for c in curs]
            ks = [ks_sorted(r, c) for r, c in zip(refs, sorted_curs)]
            t1 = time.perf_counter()
            ps = []
            for e, p, c in zip(edges, props, sorted_curs):
                q = np.maximum(np.bincount(np.searchsorted(e, c, side="right"), minlength=len(e) + 1) / len(c), 1e-4)
                ps.append(float(np.sum((q - p) * np.log(q / p))))
            t2 = time.perf_counter()
            return t1 - t0, t2 - t1, [[k[0], k[1], p] for k, p in zip(ks, ps)]
    else:
        def once():
            t0 = time.perf_counter()
            ks = [stats.ks_2samp(r, c) for r, c in zip(refs, curs)]
            t1 = time.perf_counter()
            ps = [psi(r, c) for r, c in zip(refs, curs)]
            t2 = time.perf_counter()
            return t1 - t0, t2 - t1, [[float(k.statistic), float(k.pvalue), p] for k, p in zip(ks, ps)]
    results = []
    for line in sys.stdin:
        if line.strip() != "run":
            continue
        ks_s, psi_s, results = once()
        print(json.dumps({"seconds": ks_s + psi_s, "ks": ks_s, "psi": psi_s}), flush=True)
    print(json.dumps({
        "scipy": scipy.__version__, "numpy": np.__version__, "peak_rss_mb": peak_rss_mb(),
        "cpus": cpus_allowed(), "results": results,
    }), flush=True)


if __name__ == "__main__":
    main()
