#!/usr/bin/env python3
"""The reference side of the end-to-end benchmark (Benchmarks/bench_e2e.py): what a user would write with pandas or
polars + numpy + scipy to get the statistics `drift-worker compare` reports for numeric columns.

    python3 Benchmarks/reference_e2e.py compare ENGINE REF.csv CUR.csv      read both files, compare
    python3 Benchmarks/reference_e2e.py profile ENGINE REF.csv OUT.npz      read the reference, precompute
    python3 Benchmarks/reference_e2e.py warm ENGINE OUT.npz CUR.csv         read the current file, compare with OUT.npz

ENGINE is pandas (read_csv, C parser) or polars (read_csv, multi-threaded; columns to numpy). Per numeric column:
scipy.stats.ks_2samp (two-sided, method auto), PSI on 10 quantile bins of the reference (numpy's linear quantiles,
bins closed on the left as searchsorted side='right', proportions floored at 1e-4), Jensen-Shannon distance (base 2),
Hellinger distance, Wasserstein distance over the reference's standard deviation; then the Benjamini-Hochberg
adjusted p-values and the largest change of the Pearson correlation matrix (rows with every column present).

`profile` is this side's counterpart of `drift-worker profile`: each reference column sorted, its quantile edges,
bin proportions and standard deviation, and the correlation matrix, saved uncompressed (.npz). `warm` starts from
it, as `compare --reference PROFILE` does: the reference is neither read as text nor sorted again, and the KS and
Wasserstein distances run on the sorted arrays (scipy's own formulas without its internal sorts).

Prints one JSON line: {"features": {name: [KS D, KS p, PSI]}, "correlation_max_abs_delta": x, "versions": {...}}.
"""
import json
import sys

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon

BINS = 10
EPS = 1e-4


def read(engine, path):
    """{column: float64 array with NaN for missing cells}, in file order."""
    if engine == "pandas":
        import pandas as pd
        df = pd.read_csv(path, dtype=np.float64)
        return {c: df[c].to_numpy(dtype=np.float64) for c in df.columns}
    if engine == "polars":
        import polars as pl
        df = pl.read_csv(path, infer_schema_length=10_000)
        return {c: df[c].cast(pl.Float64).to_numpy() for c in df.columns}
    sys.exit(f"reference_e2e.py: unknown engine {engine!r} (pandas or polars)")


def edges_of(sorted_ref):
    return np.unique(np.quantile(sorted_ref, np.arange(1, BINS) / BINS))


def proportions(edges, x):
    return np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1) / len(x)


def binned(p, q):
    pe, qe = np.maximum(p, EPS), np.maximum(q, EPS)
    psi = float(np.sum((qe - pe) * np.log(qe / pe)))
    hellinger = float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)) / np.sqrt(2))
    return psi, float(jensenshannon(p, q, base=2)), hellinger


def ks_sorted(a, b):
    """scipy.stats.ks_2samp(a, b) (two-sided, auto) for ascending a and b, without its sorts."""
    n1, n2 = len(a), len(b)
    if max(n1, n2) <= 10_000:  # scipy's exact method: call it as is
        r = stats.ks_2samp(a, b)
        return float(r.statistic), float(r.pvalue)
    both = np.concatenate([a, b])
    diff = np.searchsorted(a, both, side="right") / n1 - np.searchsorted(b, both, side="right") / n2
    d = max(float(np.clip(-diff.min(), 0, 1)), float(diff.max()))
    m, n = sorted([float(n1), float(n2)], reverse=True)
    return d, float(np.clip(stats.kstwo.sf(d, np.round(m * n / (m + n))), 0, 1))


def wasserstein_sorted(u, v):
    """scipy.stats.wasserstein_distance(u, v) for ascending u and v."""
    both = np.sort(np.concatenate([u, v]), kind="stable")
    deltas = np.diff(both)
    cu = np.searchsorted(u, both[:-1], side="right") / len(u)
    cv = np.searchsorted(v, both[:-1], side="right") / len(v)
    return float(np.sum(np.abs(cu - cv) * deltas))


def correlation(cols):
    x = np.column_stack(cols)
    x = x[np.isfinite(x).all(axis=1)]
    return np.corrcoef(x, rowvar=False)


def finish(names, ks, psi, ref_corr, cur_corr):
    adjusted = stats.false_discovery_control([p for _, p in ks], method="bh") if ks else []
    delta = float(np.nanmax(np.abs(ref_corr - cur_corr))) if len(names) > 1 else 0.0
    print(json.dumps({
        "features": {n: [d, p, s] for n, (d, p), s in zip(names, ks, psi)},
        "adjusted_max": float(np.max(adjusted)) if len(adjusted) else None,
        "correlation_max_abs_delta": delta,
        "versions": {"numpy": np.__version__, "scipy": scipy.__version__, **engine_version()},
    }))


def engine_version():
    out = {}
    for m in ("pandas", "polars"):
        if m in sys.modules:
            out[m] = sys.modules[m].__version__
    return out


def compare(engine, ref_path, cur_path):
    ref, cur = read(engine, ref_path), read(engine, cur_path)
    names = [c for c in ref if c in cur]
    ks, psi = [], []
    for c in names:
        r, q = ref[c][~np.isnan(ref[c])], cur[c][~np.isnan(cur[c])]
        t = stats.ks_2samp(r, q)
        ks.append((float(t.statistic), float(t.pvalue)))
        edges = edges_of(np.sort(r))
        s, _, _ = binned(proportions(edges, r), proportions(edges, q))
        psi.append(s)
        _ = stats.wasserstein_distance(r, q) / max(float(np.std(r)), 0.001)
    finish(names, ks, psi, correlation([ref[c] for c in names]), correlation([cur[c] for c in names]))


def profile(engine, ref_path, out_path):
    ref = read(engine, ref_path)
    names = list(ref)
    arrays = {"names": np.array(names), "correlation": correlation([ref[c] for c in names])}
    for i, c in enumerate(names):
        s = np.sort(ref[c][~np.isnan(ref[c])])
        edges = edges_of(s)
        arrays[f"sorted{i}"] = s
        arrays[f"edges{i}"] = edges
        arrays[f"props{i}"] = proportions(edges, s)
        arrays[f"std{i}"] = np.array([np.std(s)])
    np.savez(out_path, **arrays)
    print(json.dumps({"features": len(names), "versions": {"numpy": np.__version__, **engine_version()}}))


def warm(engine, profile_path, cur_path):
    prof = np.load(profile_path)
    names = [str(n) for n in prof["names"]]
    cur = read(engine, cur_path)
    ks, psi = [], []
    for i, c in enumerate(names):
        r = prof[f"sorted{i}"]
        q = np.sort(cur[c][~np.isnan(cur[c])])
        ks.append(ks_sorted(r, q))
        s, _, _ = binned(prof[f"props{i}"], proportions(prof[f"edges{i}"], q))
        psi.append(s)
        _ = wasserstein_sorted(r, q) / max(float(prof[f"std{i}"][0]), 0.001)
    finish(names, ks, psi, prof["correlation"], correlation([cur[c] for c in names]))


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[1] not in ("compare", "profile", "warm"):
        sys.exit(__doc__)
    {"compare": compare, "profile": profile, "warm": warm}[sys.argv[1]](*sys.argv[2:])
