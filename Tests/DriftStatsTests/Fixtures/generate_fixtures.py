#!/usr/bin/env python3
"""Golden fixtures for DriftStats, computed with scipy/numpy.

Run from anywhere:  python3 Tests/DriftStatsTests/Fixtures/generate_fixtures.py
Writes ks_cases.json and stats_cases.json next to this file. Deterministic: data come either
stored inline or from the SplitMix64 recipe below, which the Swift tests reproduce bit for bit
(`GoldenData.swift`). Pinned: scipy 1.17.x, numpy 2.x.
"""
import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
from scipy import stats
from scipy.spatial.distance import jensenshannon

HERE = os.path.dirname(os.path.abspath(__file__))
if not scipy.__version__.startswith("1.17"):
    sys.exit(f"scipy 1.17.x is the reference; found {scipy.__version__}")

GAMMA = np.uint64(0x9E3779B97F4A7C15)


def sm64(seed, count):
    """SplitMix64 outputs 1..count for a seed (state += gamma, then mix)."""
    i = np.arange(1, count + 1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + i * GAMMA
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476DCE4E5CE9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def uniforms(seed, count):
    return (sm64(seed, count) >> np.uint64(11)).astype(np.float64) * (2.0 ** -53)


def gen(spec):
    """Data from a recipe: uniform a*u+b; irwin a*(u1+u2+u3+u4-2)+b; int floor(u*k)+b."""
    n, seed, dist = spec["n"], spec["seed"], spec["dist"]
    a, b = spec.get("a", 1.0), spec.get("b", 0.0)
    if dist == "uniform":
        return uniforms(seed, n) * a + b
    if dist == "irwin":
        u = uniforms(seed, 4 * n).reshape(n, 4)
        s = u[:, 0] + u[:, 1] + u[:, 2] + u[:, 3]
        return (s - 2.0) * a + b
    if dist == "int":
        return np.floor(uniforms(seed, n) * spec["k"]) + b
    raise ValueError(dist)


def data(d):
    if isinstance(d, dict):
        if "linspace" in d:
            x = np.linspace(*d["linspace"][:2], int(d["linspace"][2]))
            for op, v in d.get("ops", []):
                x = x + v if op == "add" else x - v
            return x
        return gen(d)
    return np.asarray(d, dtype=np.float64)


def ks_case(name, x, y, alternative="two-sided", method="auto", suite=None):
    xs, ys = data(x), data(y)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = stats.ks_2samp(xs, ys, alternative=alternative, method=method)
    fell_back = any("Switching to" in str(m.message) for m in w)
    case = {"name": name, "x": x, "y": y, "alternative": alternative, "method": method,
            "statistic": float(r.statistic), "pvalue": float(r.pvalue),
            "location": float(r.statistic_location), "sign": int(r.statistic_sign),
            "fell_back_to_asymp": fell_back}
    if suite is not None:
        case["suite_expected"] = suite
    return case


def ks_cases():
    cases = []
    # scipy's own TestKSTwoSamples (expected statistic and p-value from its source).
    lin = lambda a, b, n, ops=(): {"linspace": [a, b, n], "ops": [list(o) for o in ops]}
    suite = [
        ("small", [0.0], [1.0], [("two-sided", 1.0, 1.0), ("greater", 1.0, 0.5), ("less", 0.0, 1.0)]),
        ("small_rev", [1.0], [0.0], [("two-sided", 1.0, 1.0), ("greater", 0.0, 1.0), ("less", 1.0, 0.5)]),
        ("two_vs_three_p", lin(1, 2, 2, [("add", 0.01)]), [1.0, 2.0, 3.0],
         [("two-sided", 1 / 3, 1.0), ("greater", 1 / 3, 0.7), ("less", 1 / 3, 0.7)]),
        ("two_vs_three_m", lin(1, 2, 2, [("sub", 0.01)]), [1.0, 2.0, 3.0],
         [("two-sided", 2 / 3, 0.6), ("greater", 2 / 3, 0.3), ("less", 0.0, 1.0)]),
        ("two_vs_four_p", lin(1, 2, 2, [("add", 0.01)]), [1.0, 2.0, 3.0, 4.0],
         [("two-sided", 0.5, 14 / 15), ("greater", 0.5, 8 / 15), ("less", 0.25, 12 / 15)]),
        ("two_vs_four_m", lin(1, 2, 2, [("sub", 0.01)]), [1.0, 2.0, 3.0, 4.0],
         [("two-sided", 0.75, 6 / 15), ("greater", 0.75, 3 / 15), ("less", 0.0, 1.0)]),
        ("100_100_p", lin(1, 100, 100), lin(1, 100, 100, [("add", 2), ("add", 0.1)]),
         [("two-sided", 0.03, 0.9999999999962055), ("greater", 0.03, 0.9143290114276248), ("less", 0.0, 1.0)]),
        ("100_100_m", lin(1, 100, 100), lin(1, 100, 100, [("add", 2), ("sub", 0.1)]),
         [("two-sided", 0.02, 1.0), ("greater", 0.02, 0.960978450786184), ("less", 0.0, 1.0)]),
        ("100_110_p", lin(1, 100, 100), lin(1, 100, 110, [("add", 20), ("add", 0.1)]),
         [("two-sided", 232 / 1100, 0.015739183865607353), ("greater", 232 / 1100, 0.007869594319053203), ("less", 0.0, 1.0)]),
        ("100_110_m", lin(1, 100, 100), lin(1, 100, 110, [("add", 20), ("sub", 0.1)]),
         [("two-sided", 229 / 1100, 0.017803803861026313), ("greater", 229 / 1100, 0.008901905958245056), ("less", 0.0, 1.0)]),
        ("repeated_2233", [2.0] * 3 + [3.0] * 4 + [5.0] * 5 + [6.0] * 4, [3.0] * 3 + [4.0] * 4 + [6.0] * 5 + [7.0] * 4,
         [("two-sided", 5 / 16, 0.4262934613454952), ("greater", 5 / 16, 0.21465428276573786), ("less", 0.0, 1.0)]),
        ("repeated_2356", [2.0] * 3 + [3.0] * 4 + [5.0] * 10 + [6.0] * 4, [3.0] * 10 + [4.0] * 2 + [6.0] * 10 + [7.0] * 4,
         [("two-sided", 190 / 21 / 26, 0.0919245790168125), ("greater", 190 / 21 / 26, 0.0459633806858544),
          ("less", 70 / 21 / 26, 0.6121593130022775)]),
        ("equal_plus1", [1.0, 2.0, 3.0], [2.0, 3.0, 4.0], [("two-sided", 1 / 3, 1.0), ("greater", 1 / 3, 0.75), ("less", 0.0, 1.0)]),
        ("equal_plus_half", [1.0, 2.0, 3.0], [1.5, 2.5, 3.5], [("two-sided", 1 / 3, 1.0), ("greater", 1 / 3, 0.75), ("less", 0.0, 1.0)]),
        ("equal_minus_half", [1.0, 2.0, 3.0], [0.5, 1.5, 2.5], [("two-sided", 1 / 3, 1.0), ("greater", 0.0, 1.0), ("less", 1 / 3, 0.75)]),
    ]
    for name, x, y, checks in suite:
        for alt, st, p in checks:
            cases.append(ks_case(f"scipy_suite_{name}_{alt}", x, y, alt, "auto", {"statistic": st, "pvalue": p}))
    # The suite's larger cases.
    for n1, n2, tag, checks in [
        (500, 600, "middling", [("two-sided", "auto", 2000 / 500 / 600, 1.0), ("two-sided", "asymp", 2000 / 500 / 600, 1.0),
                                ("greater", "asymp", 2000 / 500 / 600, 0.9697596024683929),
                                ("less", "asymp", 500 / 500 / 600, 0.9968735843165021),
                                ("greater", "exact", 2000 / 500 / 600, 0.9697596024683929),
                                ("less", "exact", 500 / 500 / 600, 0.9968735843165021)]),
        (1000, 1100, "medium", [("two-sided", "asymp", 6600 / 1000 / 1100, 1.0), ("two-sided", "auto", 6600 / 1000 / 1100, 1.0),
                                ("greater", "asymp", 6600 / 1000 / 1100, 0.9573185808092622),
                                ("less", "asymp", 1000 / 1000 / 1100, 0.9982410869433984),
                                ("greater", "exact", 6600 / 1000 / 1100, 0.9573185808092622),
                                ("less", "exact", 1000 / 1000 / 1100, 0.9982410869433984)]),
        (10000, 11000, "large_both", [("two-sided", "asymp", 563 / 110000, 0.9990660108966576),
                                      ("two-sided", "exact", 563 / 110000, 0.9990456491488628),
                                      ("two-sided", "auto", 563 / 110000, 0.9990660108966576),
                                      ("greater", "auto", 563 / 110000, 0.7561851877420673),
                                      ("less", "auto", 10 / 110000, 0.9998239693191724),
                                      ("greater", "exact", 563 / 110000, 0.7561851877420673),
                                      ("less", "exact", 10 / 110000, 0.9998239693191724)]),
    ]:
        delta = 1.0 / n1 / n2 / 2 / 2
        x = lin(1, 200, n1, [("sub", delta)])
        y = lin(2, 200, n2)
        for alt, method, st, p in checks:
            cases.append(ks_case(f"scipy_suite_{tag}_{alt}_{method}", x, y, alt, method, {"statistic": st, "pvalue": p}))
    n1, n2 = 10000, 110
    delta = 1.0 / n1 / n2 / 2 / 2
    x, y = lin(1, 200, n1, [("sub", delta)]), lin(2, 100, n2)
    for alt, st, p in [("two-sided", 55275 / 110000, 4.2188474935755949e-15), ("greater", 561 / 110000, 0.99115454582047591),
                       ("less", 55275 / 110000, 3.1317328311518713e-26)]:
        cases.append(ks_case(f"scipy_suite_large_{alt}", x, y, alt, "auto", {"statistic": st, "pvalue": p}))
    rng = np.random.RandomState(123456)
    gx = rng.normal(size=3000).tolist()
    gy = (rng.normal(size=3001) * 1.5).tolist()
    for method in ("asymp", "exact"):
        cases.append(ks_case(f"scipy_suite_gh11184_{method}", gx, gy, "two-sided", method,
                             {"statistic": 0.11292880151060758, "pvalue": 2.7755575615628914e-15}))
    x = np.arange(10, dtype=np.float64)
    for alt, x6 in [("greater", 5.9), ("less", 6.1), ("two-sided", 5.9), ("two-sided", 6.1)]:
        xx = x.copy()
        xx[6] = x6
        cases.append(ks_case(f"scipy_suite_location_{alt}_{x6}", xx.tolist(), x.tolist(), alt, "auto", {"statistic": 0.1}))

    # A grid over sizes, shapes, shifts and alternatives (auto method: exact up to 10,000).
    sizes = [(1, 1), (1, 3), (2, 3), (3, 3), (5, 7), (8, 8), (10, 15), (20, 20), (25, 40), (50, 50), (60, 100),
             (100, 100), (137, 211), (200, 300), (500, 500), (600, 1000), (1000, 1000), (1500, 2500), (3000, 3000),
             (5000, 4000), (9000, 10000), (10000, 10000)]
    dists = ["irwin", "uniform", "int"]
    seed = 1000
    for (n1, n2) in sizes:
        for k, shift in enumerate([0.0, 0.08, 0.5]):
            dist = dists[(n1 + k) % 3]
            seed += 2
            x = {"n": n1, "seed": seed, "dist": dist, "a": 1.0, "b": 0.0, "k": 12}
            y = {"n": n2, "seed": seed + 1, "dist": dist, "a": 1.0, "b": shift, "k": 12}
            for alt in ("two-sided", "less", "greater"):
                cases.append(ks_case(f"grid_{n1}x{n2}_{dist}_shift{shift}_{alt}", x, y, alt, "auto"))
    # Forced methods on small and middle sizes (asymp on small n uses kstwo's exact regimes).
    for (n1, n2) in [(3, 4), (7, 7), (12, 30), (40, 40), (64, 90), (130, 140), (150, 151), (400, 600), (2000, 2000), (700, 900)]:
        for shift in (0.0, 0.3, 1.0):
            seed += 2
            x = {"n": n1, "seed": seed, "dist": "irwin", "a": 1.0, "b": 0.0}
            y = {"n": n2, "seed": seed + 1, "dist": "irwin", "a": 1.0, "b": shift}
            for method in ("exact", "asymp"):
                for alt in ("two-sided", "greater"):
                    cases.append(ks_case(f"forced_{method}_{n1}x{n2}_shift{shift}_{alt}", x, y, alt, method))
    # Identical and disjoint samples.
    for n in (1, 5, 50, 500, 20000):
        same = {"n": n, "seed": 77 + n, "dist": "uniform"}
        cases.append(ks_case(f"identical_{n}", same, same, "two-sided", "auto"))
        cases.append(ks_case(f"disjoint_{n}", {"n": n, "seed": 5 + n, "dist": "uniform"},
                             {"n": n + 3, "seed": 6 + n, "dist": "uniform", "b": 2.0}, "two-sided", "auto"))
        cases.append(ks_case(f"disjoint_{n}_greater", {"n": n, "seed": 5 + n, "dist": "uniform"},
                             {"n": n + 3, "seed": 6 + n, "dist": "uniform", "b": 2.0}, "greater", "auto"))
    # Large samples: asymptotic regimes of kstwo (Durbin matrix, Pelz-Good, Smirnov), up to 10^6.
    for (n1, n2, shift, dist) in [(100000, 10000, 0.0, "irwin"), (100000, 10000, 0.005, "irwin"),
                                  (100000, 10000, 0.02, "irwin"), (100000, 10000, 0.1, "uniform"),
                                  (20000, 20000, 0.0, "uniform"), (20000, 15000, 0.01, "irwin"),
                                  (1000000, 100000, 0.0, "irwin"), (1000000, 100000, 0.003, "irwin"),
                                  (1000000, 100000, 0.05, "irwin"), (1000000, 1000000, 0.002, "uniform"),
                                  (1000000, 1000000, 0.0, "int"), (300000, 200000, 0.0, "irwin")]:
        seed += 2
        x = {"n": n1, "seed": seed, "dist": dist, "k": 1000}
        y = {"n": n2, "seed": seed + 1, "dist": dist, "b": shift, "k": 1000}
        for alt in ("two-sided", "less", "greater"):
            cases.append(ks_case(f"large_{n1}x{n2}_{dist}_shift{shift}_{alt}", x, y, alt, "auto"))
    return cases


def psi_quantile(ref, cur, bins, eps):
    edges = np.unique(np.quantile(ref, np.arange(1, bins) / bins))
    p = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1) / len(ref)
    q = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1) / len(cur)
    pe, qe = np.maximum(p, eps), np.maximum(q, eps)
    return edges, p, q, float(np.sum((qe - pe) * np.log(qe / pe)))


def evidently_numeric(ref, cur):
    """Evidently 0.7's get_binned_data + PSI for numeric data (reimplemented; cross-checked
    against the real package by generate_evidently_fixtures.py)."""
    if len(np.unique(ref)) > 20:
        bins = np.histogram_bin_edges(np.concatenate([ref, cur]), bins="sturges")
        p = np.histogram(ref, bins)[0] / len(ref)
        q = np.histogram(cur, bins)[0] / len(cur)
    else:
        keys = sorted(set(np.unique(ref)) | set(np.unique(cur)))
        p = np.array([np.sum(ref == k) / len(ref) for k in keys])
        q = np.array([np.sum(cur == k) / len(cur) for k in keys])
    fill = lambda a: np.where(a == 0, (a[a != 0].min() / 1e6 if a[a != 0].min() <= 1e-4 else 1e-4), a)
    p, q = fill(p), fill(q)
    return float(np.sum((p - q) * np.log(p / q)))


def numeric_cases():
    cases = []
    seed = 50000
    specs = [(5000, 3000, "irwin", 0.0, 1.0), (5000, 3000, "irwin", 0.3, 1.0), (2000, 2000, "uniform", 0.0, 1.3),
             (10000, 500, "irwin", 1.5, 1.0), (300, 300, "int", 0.0, 1.0), (1000, 800, "int", 2.0, 1.0),
             (50, 40, "irwin", 0.2, 2.0), (20000, 20000, "uniform", 0.05, 1.0), (7, 9, "irwin", 0.0, 1.0),
             (4000, 1000, "irwin", -0.4, 0.5), (1000, 1000, "int", 0.0, 1.0), (100000, 10000, "irwin", 0.1, 1.0)]
    for i, (n1, n2, dist, shift, scale) in enumerate(specs):
        seed += 2
        k = 5 if dist == "int" and i % 2 == 0 else 40
        x = {"n": n1, "seed": seed, "dist": dist, "a": 1.0, "b": 0.0, "k": k}
        y = {"n": n2, "seed": seed + 1, "dist": dist, "a": scale, "b": shift, "k": k}
        ref, cur = gen(x), gen(y)
        for bins, eps in [(10, 1e-4), (20, 1e-3), (4, 1e-6)]:
            edges, p, q, psi = psi_quantile(ref, cur, bins, eps)
            std = max(np.std(ref, ddof=0), 0.001)
            cases.append({
                "name": f"numeric_{i}_{dist}_b{bins}", "x": x, "y": y, "bins": bins, "epsilon": eps,
                "edges": edges.tolist(), "p": p.tolist(), "q": q.tolist(), "psi": psi,
                "jensen_shannon": float(jensenshannon(p, q, base=2)),
                "hellinger": float(np.sqrt(np.sum((np.sqrt(p) - np.sqrt(q)) ** 2)) / np.sqrt(2)),
                "wasserstein_normed": float(stats.wasserstein_distance(ref, cur) / std),
                "psi_sturges": evidently_numeric(ref, cur),
            })
    return cases


def chi_square_cases():
    cases = []
    rng = np.random.default_rng(20261129)
    tables = [([50, 30, 20], [45, 35, 20]), ([500, 300, 200], [100, 300, 600]), ([10, 0, 5], [3, 7, 5]),
              ([1000, 10], [990, 20]), ([5, 5], [5, 5]), ([100, 50, 25, 0], [90, 40, 30, 15]),
              ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]), ([7], [9]),
              ([20000, 15000, 5000], [2000, 1500, 520]), ([3, 0], [0, 3])]
    for k in (3, 12, 40, 150):
        r = rng.integers(0, 500, size=k)
        c = np.maximum(r + rng.integers(-40, 60, size=k), 0)
        r[0] += 1
        c[-1] += 1
        tables.append((r.tolist(), c.tolist()))
    for ref, cur in tables:
        t = np.array([ref, cur])
        if t.shape[1] == 1:
            stat, p, dof = 0.0, 1.0, 0
        else:
            res = stats.chi2_contingency(t, correction=False)
            stat, p, dof = float(res.statistic), float(res.pvalue), int(res.dof)
        pr, qr = np.array(ref) / sum(ref), np.array(cur) / sum(cur)
        cases.append({"reference": ref, "current": cur, "statistic": stat, "pvalue": p, "dof": dof,
                      "jensen_shannon": float(jensenshannon(pr, qr, base=2)),
                      "psi": float(np.sum((np.maximum(qr, 1e-4) - np.maximum(pr, 1e-4)) * np.log(np.maximum(qr, 1e-4) / np.maximum(pr, 1e-4))))})
    # chi-square survival function directly, across dof and tails
    sf = []
    for dof in (1, 2, 3, 5, 10, 30, 99, 400):
        for x in (0.01, 0.5, 1, 3, 10, 50, 200, 1000):
            sf.append({"x": x, "dof": dof, "sf": float(stats.chi2.sf(x, dof))})
    return cases, sf


def correction_cases():
    rng = np.random.default_rng(7)
    out = []
    for m in (1, 2, 5, 17, 100):
        p = rng.uniform(0, 1, size=m) ** 3
        if m > 2:
            p[1] = p[0]
        out.append({"p": p.tolist(), "bh": stats.false_discovery_control(p, method="bh").tolist(),
                    "bonferroni": np.minimum(p * m, 1).tolist()})
    return out


def correlation_cases():
    out = []
    for i, (n, p, shift) in enumerate([(500, 3, 0.0), (2000, 6, 0.8), (300, 2, -0.5), (5000, 10, 0.3)]):
        rs, cs = 900 + 2 * i, 901 + 2 * i
        ref = gen({"n": n * p, "seed": rs, "dist": "irwin"}).reshape(p, n)
        cur = gen({"n": n * p, "seed": cs, "dist": "irwin"}).reshape(p, n)
        ref[1] = ref[1] + 0.6 * ref[0]
        cur[1] = cur[1] + (0.6 + shift) * cur[0]
        rc, cc = np.corrcoef(ref), np.corrcoef(cur)
        d = np.abs(rc - cc)
        iu = np.triu_indices(p, 1)
        k = int(np.argmax(d[iu]))
        out.append({"n": n, "p": p, "ref_seed": rs, "cur_seed": cs, "shift": shift,
                    "reference_matrix": rc.ravel().tolist(), "current_matrix": cc.ravel().tolist(),
                    "max_abs_delta": float(d[iu][k]), "pair": [int(iu[0][k]), int(iu[1][k])]})
    return out


def main():
    ks = ks_cases()
    with open(os.path.join(HERE, "ks_cases.json"), "w") as f:
        json.dump({"scipy": scipy.__version__, "numpy": np.__version__, "cases": ks}, f, separators=(",", ":"))
    chi, chi_sf = chi_square_cases()
    out = {"scipy": scipy.__version__, "numpy": np.__version__, "numeric": numeric_cases(), "chi_square": chi,
           "chi_square_sf": chi_sf, "corrections": correction_cases(), "correlation": correlation_cases(),
           "quantiles": []}
    rs = gen({"n": 1001, "seed": 4242, "dist": "irwin"})
    for n in (1, 2, 3, 10, 101, 1001):
        x = np.sort(rs[:n])
        out["quantiles"].append({"x": x.tolist(), "q": [k / 10 for k in range(11)] + [1 / 3, 0.999],
                                 "values": np.quantile(x, [k / 10 for k in range(11)] + [1 / 3, 0.999]).tolist()})
    with open(os.path.join(HERE, "stats_cases.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"{len(ks)} KS cases, {len(out['numeric'])} numeric, {len(chi)} chi-square cases")


if __name__ == "__main__":
    main()
