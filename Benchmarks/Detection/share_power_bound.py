#!/usr/bin/env python3
"""What bounds the categorical share test's power at 1,000 reference / 500 current rows (issue 19's share_10pp target).

The harness's share_10pp scenario (scenarios.py) lowers one categorical feature's top share by 10 points, the mass
spread over the other categories in proportion; the 4 categorical features (3 categories 0.5/0.3/0.2, and Zipf with
8, 15, 30 categories) have their share-test p-values adjusted by Benjamini-Hochberg at alpha = 0.01, as drift-worker's
default rules do (FeatureComparison.swift, `ShareChange`; README "How to read a drift result").

This script measures, on the same multinomial data (numpy, seeded), three tests of the moved feature:
  union    drift-worker's: T = max |z_c| over categories with |change| >= 5 points, p = sum_c 2 Phi-bar(max(T, g/se_c))
  chi2     the chi-square of homogeneity over all categories, with the same 5-point effect gate
  oracle   a z-test of the category that truly moved, told which one it is (no price for choosing it)
and, for the union bound, how far its critical value lies from the exact null of max|z| (the multivariate normal of
the standardized share changes, 2,000,000 draws): the gap is the most any better null of the same statistic can gain.

    python3 Benchmarks/Detection/share_power_bound.py [--trials 1500] [--seed 1]

Measured (seed 1, 1,500 trials per feature, 2,000,000 draws): union 72.8 % pooled (64 / 63 / 76 / 88 % for 3 / 8 / 15 /
30 categories), chi2 44.5 %, oracle 83.8 % (75 / 79 / 88 / 94 %); the exact null's critical z lies within 0.015 of the
union bound's (-0.011 ... 0.015, about the Monte Carlo error of the draws): less than half a point of power.
"""

import argparse

import numpy as np
from scipy import optimize, stats

N_REF, N_CUR = 1_000, 500
GATE = 0.05  # share_threshold, 5 points
ALPHA = 0.01
CARDINALITIES = [3, 8, 15, 30]


def shares(k):
    if k == 3:
        return np.array([0.5, 0.3, 0.2])
    p = 1 / np.arange(1, k + 1)
    return p / p.sum()


def moved(s, points=0.10):
    m = s.copy()
    m[0] -= points
    m[1:] += points * s[1:] / s[1:].sum()
    return m


def union_p(rc, cc):
    d = cc / N_CUR - rc / N_REF
    pooled = (rc + cc) / (N_REF + N_CUR)
    se = np.sqrt(pooled * (1 - pooled) * (1 / N_REF + 1 / N_CUR))
    ok = (np.abs(d) >= GATE - 1e-9) & (se > 0)
    if not ok.any():
        return 1.0, d, se
    t = (np.abs(d)[ok] / se[ok]).max()
    return min(1.0, sum(2 * stats.norm.sf(max(t, GATE / s)) for s in se if s > 0)), d, se


def chi2_p(rc, cc):
    table = np.array([rc, cc])
    table = table[:, table.sum(0) > 0]
    return stats.chi2_contingency(table, correction=False)[1]


def bh(ps):
    ps = np.asarray(ps, dtype=float)
    order = np.argsort(ps)
    adjusted = np.empty(len(ps))
    running = 1.0
    for rank in range(len(ps) - 1, -1, -1):
        i = order[rank]
        running = min(running, ps[i] * len(ps) / (rank + 1))
        adjusted[i] = running
    return adjusted


def power(trials, rng):
    rates = {}
    for target in CARDINALITIES:
        hits = {"union": 0, "chi2": 0, "oracle": 0}
        for _ in range(trials):
            p = {"union": [], "chi2": [], "oracle": []}
            gated = []
            for k in CARDINALITIES:
                s = shares(k)
                rc = rng.multinomial(N_REF, s)
                cc = rng.multinomial(N_CUR, moved(s) if k == target else s)
                pu, d, se = union_p(rc, cc)
                p["union"].append(pu)
                p["chi2"].append(chi2_p(rc, cc))
                p["oracle"].append(2 * stats.norm.sf(abs(d[0]) / se[0]) if abs(d[0]) >= GATE else 1.0)
                gated.append(np.abs(d).max() >= GATE - 1e-9)
            i = CARDINALITIES.index(target)
            hits["union"] += bh(p["union"])[i] < ALPHA
            hits["chi2"] += bh(p["chi2"])[i] < ALPHA and gated[i]
            hits["oracle"] += bh(p["oracle"])[i] < ALPHA
        rates[target] = {name: h / trials for name, h in hits.items()}
    return rates


def critical_values(draws, rng):
    """The union bound's and the exact null's critical T for the BH level of one signal among 4 (alpha/4)."""
    level = ALPHA / len(CARDINALITIES)
    v = 1 / N_REF + 1 / N_CUR
    out = {}
    for k in CARDINALITIES:
        s = shares(k)
        se = np.sqrt(s * (1 - s) * v)
        delta = rng.multivariate_normal(np.zeros(k), v * (np.diag(s) - np.outer(s, s)), size=draws, method="eigh")
        z = np.abs(delta) / se
        floor = GATE / se

        def union(t):
            return min(1.0, sum(2 * stats.norm.sf(max(t, f)) for f in floor))

        def exact(t):
            return np.mean((z >= np.maximum(t, floor)).any(axis=1))

        out[k] = (optimize.brentq(lambda t: union(t) - level, 1, 8), optimize.brentq(lambda t: exact(t) - level, 1, 8))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=1500)
    ap.add_argument("--draws", type=int, default=2_000_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    rates = power(a.trials, rng)
    print(f"share_10pp at {N_REF}/{N_CUR}, BH over {len(CARDINALITIES)} categorical features at alpha {ALPHA}, {a.trials} trials each")
    print(f"{'categories':>10}  {'union':>6}  {'chi2':>6}  {'oracle':>6}")
    for k, r in rates.items():
        print(f"{k:>10}  {100 * r['union']:5.1f}%  {100 * r['chi2']:5.1f}%  {100 * r['oracle']:5.1f}%")
    pooled = {name: np.mean([r[name] for r in rates.values()]) for name in ("union", "chi2", "oracle")}
    print(f"{'pooled':>10}  {100 * pooled['union']:5.1f}%  {100 * pooled['chi2']:5.1f}%  {100 * pooled['oracle']:5.1f}%")
    print("critical max|z| at alpha/4: union bound vs exact null (multivariate normal)")
    for k, (u, e) in critical_values(a.draws, rng).items():
        print(f"{k:>10}  union {u:.3f}  exact {e:.3f}  gap {u - e:.3f}")


if __name__ == "__main__":
    main()
