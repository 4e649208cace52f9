#!/usr/bin/env python3
"""Golden fixtures for the drift rules' tests besides KS (DistributionTests, ShareChange, UnseenShare), with scipy.

Run from anywhere:  python3 Tests/DriftStatsTests/Fixtures/generate_rule_fixtures.py
Writes rule_cases.json next to this file. Data come from the SplitMix64 recipes of generate_fixtures.py (the Swift
tests rebuild them bit for bit). Pinned: scipy 1.17.x, numpy 2.x.

- Anderson–Darling: `scipy.stats.anderson_ksamp([x, y], variant="midrank").statistic` (the standardized T); the p-value
  of the documented asymptotic law (T → A∞ = 1 + T·sqrt(2(π²−9)/3), Marsaglia & Marsaglia 2004 adinf below 7, the
  tail's leading term sqrt(3/(πz))·exp(−z) scaled to meet it beyond), and for
  comparison scipy's permutation p-value (`method=PermutationMethod(n_resamples=20000)`, seeded).
- The chi-square over values: the distinct values' counts merged in value order until each cell's expected counts
  are ≥ 5 on both sides, then `scipy.stats.chi2_contingency(table, correction=False)`.
- Share change: per category z from `chi2_contingency([[c1, n1 − c1], [c2, n2 − c2]], correction=False)`; the largest
  z among categories that moved ≥ 5 points; p = min(1, Σ_c 2·norm.sf(max(z, 0.05/se_c))).
- Unseen share: max(`fisher_exact([[0, n1], [u, n2 − u]], alternative='less')`, `poisson.sf(u − 1, n2·f1/n1)`), f1 the
  reference categories seen once (Good–Turing).
"""
import json
import math
import os
import sys

import numpy as np
import scipy
from scipy import stats

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_fixtures import gen  # noqa: E402  (the shared SplitMix64 recipes)

HERE = os.path.dirname(os.path.abspath(__file__))
if not scipy.__version__.startswith("1.17"):
    sys.exit(f"scipy 1.17.x is the reference; found {scipy.__version__}")

SIGMA_INF = math.sqrt(2 * (math.pi ** 2 - 9) / 3)


def tail_term(z):
    return math.sqrt(3 / (math.pi * z)) * math.exp(-z)


def adinf_upper(z):
    """P(A∞ > z): Marsaglia's adinf below 7; beyond, the tail's leading term scaled to meet it at 7."""
    if z >= 7:
        return adinf_fit(7) / tail_term(7) * tail_term(z)
    return adinf_fit(z)


def adinf_fit(z):
    if z < 2:
        cdf = math.exp(-1.2337141 / z) / math.sqrt(z) * (
            2.00012 + (.247105 - (.0649821 - (.0347962 - (.011672 - .00168691 * z) * z) * z) * z) * z)
        return 1 - cdf
    inner = 1.0776 - (2.30695 - (.43424 - (.082433 - (.008056 - .0003146 * z) * z) * z) * z) * z
    return -math.expm1(-math.exp(inner))


def ad_case(name, xs, ys):
    x, y = np.sort(gen(xs)), np.sort(gen(ys))
    r = stats.anderson_ksamp([x, y], variant="midrank")
    z = 1 + r.statistic * SIGMA_INF
    p = min(max(adinf_upper(z), 0), 1) if z > 0 else 1.0
    perm = stats.anderson_ksamp([x, y], variant="midrank",
                                method=stats.PermutationMethod(n_resamples=20000, rng=np.random.default_rng(7)))
    return {"name": name, "x": xs, "y": ys, "standardized": float(r.statistic), "pvalue": p,
            "pvalue_permutation": float(perm.pvalue)}


def value_chi_case(name, xs, ys):
    x, y = gen(xs), gen(ys)
    values = np.union1d(x, y)
    c1 = np.array([np.sum(x == v) for v in values])
    c2 = np.array([np.sum(y == v) for v in values])
    needed = 5.0 * (len(x) + len(y)) / min(len(x), len(y))
    ref, cur, a, b = [], [], 0, 0
    for i in range(len(values)):
        a += c1[i]; b += c2[i]
        if a + b >= needed:
            ref.append(a); cur.append(b); a = b = 0
    if a + b > 0:
        ref[-1] += a; cur[-1] += b
    chi = stats.chi2_contingency(np.array([ref, cur]), correction=False)
    return {"name": name, "x": xs, "y": ys, "statistic": float(chi.statistic), "dof": int(chi.dof),
            "pvalue": float(chi.pvalue)}


def share_case(name, ref, cur, g=0.05):
    """The share test (the union bound over categories, see ShareChange) and the unseen test (Fisher and Good–Turing)."""
    cats = sorted(set(ref) | set(cur))
    rc = [ref.get(c, 0) for c in cats]; cc = [cur.get(c, 0) for c in cats]
    n1, n2 = sum(rc), sum(cc)
    zs, ses, best = [], [], None
    for i in range(len(cats)):
        d = cc[i] / n2 - rc[i] / n1
        # each z² is the 2×2 chi-square without continuity correction
        chi = stats.chi2_contingency([[rc[i], n1 - rc[i]], [cc[i], n2 - cc[i]]], correction=False) if 0 < rc[i] + cc[i] < n1 + n2 else None
        se = math.sqrt(((rc[i] + cc[i]) / (n1 + n2)) * (1 - (rc[i] + cc[i]) / (n1 + n2)) * (1 / n1 + 1 / n2))
        z = math.sqrt(chi.statistic) if chi is not None else 0.0
        zs.append(z); ses.append(se)
        if abs(d) >= g - 1e-9 and se > 0 and (best is None or z > zs[best]):
            best = i
    if best is None:
        i = int(np.argmax([abs(cc[j] / n2 - rc[j] / n1) for j in range(len(cats))])); p = 1.0
    else:
        i = best
        p = min(1.0, sum(2 * stats.norm.sf(max(zs[best], g / se)) for se in ses if se > 0))
    u = sum(cc[j] for j in range(len(cats)) if rc[j] == 0)
    f1 = sum(1 for c in rc if c == 1)
    if u > 0:
        fisher = stats.fisher_exact([[0, n1], [u, n2 - u]], alternative="less").pvalue
        lam = n2 * f1 / n1
        poisson = stats.poisson.sf(u - 1, lam) if lam > 0 else 0.0
        unseen_p = max(fisher, poisson)
    else:
        unseen_p = 1.0
    return {"name": name, "reference": ref, "current": cur, "category": cats[i], "share_reference": rc[i] / n1,
            "share_current": cc[i] / n2, "share_pvalue": float(p), "unseen_count": u, "unseen_expected": f1 / n1,
            "unseen_pvalue": float(unseen_p)}


def main():
    irwin = lambda n, seed, b=0.0, a=1.0: {"n": n, "seed": seed, "dist": "irwin", "a": a, "b": b}
    ints = lambda n, seed, k, b=0.0: {"n": n, "seed": seed, "dist": "int", "k": k, "a": 1.0, "b": b}
    ad = [
        ad_case("same_1000_500", irwin(1000, 71001), irwin(500, 71002)),
        ad_case("shift_small", irwin(1000, 71003), irwin(500, 71004, b=0.06)),
        ad_case("shift_0.25sd", irwin(1000, 71005), irwin(500, 71006, b=0.144)),
        ad_case("scale_1.2", irwin(2000, 71007), irwin(800, 71008, a=1.2)),
        ad_case("ties_int400", ints(3000, 71009, 400), ints(1500, 71010, 400, b=2)),
        ad_case("large_5000_3000", irwin(5000, 71011), irwin(3000, 71012, b=0.02)),
    ]
    chi = [
        value_chi_case("int8_same", ints(1000, 72001, 8), ints(500, 72002, 8)),
        value_chi_case("int12_shift", ints(1000, 72003, 12), ints(500, 72004, 12, b=1)),
        value_chi_case("int40_sparse_tails", ints(300, 72005, 40), ints(120, 72006, 40)),
    ]
    share = [
        share_case("top_moves", {"a": 500, "b": 300, "c": 200}, {"a": 200, "b": 180, "c": 120}),
        share_case("unseen_150", {"x": 6000, "y": 4000}, {"x": 5910, "y": 3940, "new": 100, "newer": 50}),
        share_case("one_unseen_row", {"x": 1000}, {"x": 99, "z": 1}),
        share_case("no_change", {"p": 10, "q": 10}, {"p": 10, "q": 10}),
        share_case("five_equal_small_moves", {k: 200 for k in "abcde"}, {"a": 130, "b": 90, "c": 95, "d": 95, "e": 90}),
        share_case("long_tail_new_values", {**{f"z{i}": 1 for i in range(300)}, **{"big": 700}},
                   {**{f"n{i}": 1 for i in range(160)}, **{"big": 340}}),
    ]
    out = {"scipy": scipy.__version__, "numpy": np.__version__, "anderson_darling": ad, "value_chi_square": chi, "share": share}
    with open(os.path.join(HERE, "rule_cases.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
