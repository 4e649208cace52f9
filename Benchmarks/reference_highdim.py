#!/usr/bin/env python3
"""The numpy/scipy side of `make bench`'s high-dimensional workloads, on drift-bench's data.

    python3 Benchmarks/reference_highdim.py DIR

H1: covariance as numpy computes it (centre, X^T X / (n-1)), np.linalg.eigh, the components that reach 0.9 of
the variance (at most 32), projections of both sides, then scipy.stats.ks_2samp and a numpy quantile PSI per
component. H2: MMD^2 with a Gaussian RBF kernel, the median heuristic on the reference sample, the unbiased
estimator, and a permutation test of 100 permutations that permutes the pooled kernel matrix each time (as Alibi
Detect does) — and, for comparison, the same test with drift-worker's algorithm written in numpy (all
permutations' block sums from one K @ A). Each timed 3 times, median. Prints one JSON line.
"""
import json
import math
import sys
import time

import numpy as np
from scipy import stats

from reference_stats import psi  # the same numpy PSI as the scalar workloads

D = 768


def fit(ref):
    mean = ref.mean(axis=0)
    xc = ref - mean
    cov = xc.T @ xc / (len(ref) - 1)
    w, v = np.linalg.eigh(cov)
    w, v = w[::-1], v[:, ::-1]
    total = w.clip(min=0).sum()
    k = int(min(32, np.searchsorted(np.cumsum(w.clip(min=0)), 0.9 * total) + 1))
    comps = v[:, :k]
    return mean, comps, xc @ comps, [float(x) for x in w[:k]]


def window(mean, comps, zr, cur):
    zc = (cur - mean) @ comps
    k = comps.shape[1]
    ks = [float(stats.ks_2samp(zr[:, j], zc[:, j]).statistic) for j in range(k)]
    ps = [psi(zr[:, j], zc[:, j]) for j in range(k)]
    return ks, ps


def h1(ref, cur):
    mean, comps, zr, w = fit(ref)
    ks, ps = window(mean, comps, zr, cur)
    return comps.shape[1], w, ks, ps


def kernel(a, b, sigma):
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return np.exp(-np.maximum(d, 0) / (2 * sigma * sigma))


def mmd2_from_kernel(k, m):
    n = len(k) - m
    kxx, kyy, kxy = k[:m, :m], k[m:, m:], k[:m, m:]
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.sum() / (m * n))


def h2(x, y):
    d = (x * x).sum(1)[:, None] + (x * x).sum(1)[None, :] - 2 * x @ x.T
    sigma = math.sqrt(np.median(np.maximum(d, 0)[np.triu_indices(len(x), 1)]) / 2)
    z = np.vstack([x, y])
    k = kernel(z, z, sigma)
    m = len(x)
    observed = mmd2_from_kernel(k, m)
    rng = np.random.default_rng(1)
    count = 0
    for _ in range(100):
        idx = rng.permutation(len(z))
        if mmd2_from_kernel(k[idx][:, idx], m) >= observed:
            count += 1
    return sigma, float(observed), (1 + count) / 101


def h2_batched(x, y):
    """The same test with drift-worker's algorithm in numpy: all permutations' block sums from one K @ A."""
    d = (x * x).sum(1)[:, None] + (x * x).sum(1)[None, :] - 2 * x @ x.T
    sigma = math.sqrt(np.median(np.maximum(d, 0)[np.triu_indices(len(x), 1)]) / 2)
    z = np.vstack([x, y])
    k = kernel(z, z, sigma)
    np.fill_diagonal(k, 1.0)
    m, n = len(x), len(y)
    observed = mmd2_from_kernel(k, m)
    rng = np.random.default_rng(1)
    a = np.zeros((m + n, 100))
    for p in range(100):
        a[rng.permutation(m + n)[:m], p] = 1
    u = k @ a
    r = k.sum(1)
    saa = (a * u).sum(0)
    sar = a.T @ r
    sab = sar - saa
    sbb = r.sum() - 2 * sar + saa
    v = (saa - m) / (m * (m - 1)) + (sbb - n) / (n * (n - 1)) - 2 * sab / (m * n)
    return sigma, float(observed), (1 + int((v >= observed).sum())) / 101


def timed(f, *args):
    times, out = [], None
    for _ in range(3):
        t = time.perf_counter()
        out = f(*args)
        times.append(time.perf_counter() - t)
    return float(np.median(times)), out


def main():
    d = sys.argv[1]
    ref = np.fromfile(f"{d}/hd_ref.f64", dtype="<f8").reshape(-1, D)
    cur = np.fromfile(f"{d}/hd_cur.f64", dtype="<f8").reshape(-1, D)
    t1, (k, w, ks, ps) = timed(h1, ref, cur)
    mean, comps, zr, _ = fit(ref)
    tw, _ = timed(window, mean, comps, zr, cur)
    t2, (sigma, mmd2, p) = timed(h2, ref[:2000], cur[:2000])
    t3, _ = timed(h2_batched, ref[:2000], cur[:2000])
    with open("/proc/self/status") as f:
        rss = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024
    print(json.dumps({"pca_seconds": t1, "window_seconds": tw, "mmd_seconds": t2, "mmd_batched_seconds": t3, "components": k, "eigenvalues": w, "ks": ks, "psi": ps,
                      "sigma": sigma, "mmd2": mmd2, "pvalue": p, "peak_rss_mb": rss}))


if __name__ == "__main__":
    main()
