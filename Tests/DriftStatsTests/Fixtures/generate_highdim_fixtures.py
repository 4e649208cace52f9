#!/usr/bin/env python3
"""Golden values for the high-dimensional statistics (PCA projection, per-component KS, reconstruction error,
MMD) computed with numpy/scipy on data that drift-worker's tests regenerate bit for bit: both sides draw from the
same SplitMix64 + Box-Muller stream (`SeededGaussian` in DriftStats, `Gaussian` below), so the fixture holds
only the answers and a checksum of the data.

    python3 Tests/DriftStatsTests/Fixtures/generate_highdim_fixtures.py   # writes highdim_cases.json
"""
import json
import math
import os

import numpy as np
from scipy import stats

MASK = (1 << 64) - 1


class Gaussian:
    def __init__(self, seed):
        self.state = seed & MASK
        self.spare = None

    def bits(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476DCE4E5CE9) & MASK  # drift-worker's SplitMix64 (Reservoir.swift), as generate_fixtures.py
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return ((self.bits() >> 11) + 0.5) / 9007199254740992.0

    def next(self):
        if self.spare is not None:
            s, self.spare = self.spare, None
            return s
        u1, u2 = self.uniform(), self.uniform()
        r = math.sqrt(-2.0 * math.log(u1))
        self.spare = r * math.sin(2.0 * math.pi * u2)
        return r * math.cos(2.0 * math.pi * u2)


D, LATENT = 48, 6
SCALES = [4.0, 3.2, 2.5, 1.9, 1.4, 1.0]


def loadings():
    g = Gaussian(7)
    return [[g.next() for _ in range(LATENT)] for _ in range(D)]


def draw(n, seed, shift=0.0):
    """n rows: x = A z + 0.5 noise, z_l ~ N(0, SCALES[l]^2), the first latent shifted by `shift`."""
    a = loadings()
    g = Gaussian(seed)
    rows = []
    for _ in range(n):
        z = [g.next() * SCALES[l] for l in range(LATENT)]
        z[0] += shift
        noise = [g.next() for _ in range(D)]
        row = []
        for j in range(D):
            s = 0.0
            for l in range(LATENT):
                s += a[j][l] * z[l]
            row.append(s + 0.5 * noise[j])
        rows.append(row)
    return np.array(rows)


def main():
    ref = draw(1200, 101)
    cur = draw(700, 202, shift=1.5)
    null = draw(700, 303)
    mean = ref.mean(axis=0)
    cov = np.cov(ref, rowvar=False, ddof=1)
    w, v = np.linalg.eigh(cov)
    order = np.argsort(w)[::-1]
    w, v = w[order], v[:, order]
    total = w.clip(min=0).sum()
    share = 0.9
    k, kept = 0, 0.0
    while k < min(32, D):
        kept += max(w[k], 0)
        k += 1
        if kept >= share * total:
            break
    comps = v[:, :k]                                  # d × k
    zr, zc = (ref - mean) @ comps, (cur - mean) @ comps
    ks = [stats.ks_2samp(zr[:, j], zc[:, j]) for j in range(k)]
    recon = lambda x: np.linalg.norm((x - mean) - ((x - mean) @ comps) @ comps.T, axis=1)

    def sigma_median(x):
        d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
        iu = np.triu_indices(len(x), 1)
        return math.sqrt(np.median(d[iu]) / 2)

    def mmd2(x, y, sigma):
        def k(a, b):
            d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
            return np.exp(-np.maximum(d, 0) / (2 * sigma * sigma))
        m, n = len(x), len(y)
        kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
        np.fill_diagonal(kxx, 0)
        np.fill_diagonal(kyy, 0)
        return kxx.sum() / (m * (m - 1)) + kyy.sum() / (n * (n - 1)) - 2 * kxy.sum() / (m * n)

    xs, ys, ns = ref[:400], cur[:300], null[:300]
    sigma = sigma_median(xs)
    out = {
        "dimension": D, "reference_rows": 1200, "current_rows": 700,
        "checksums": {"reference": float(ref.sum()), "current": float(cur.sum()), "null": float(null.sum())},
        "components": k,
        "eigenvalues": [float(x) for x in w[:k]],
        "all_eigenvalues": [float(x) for x in w],
        "eigenvectors": [[float(x) for x in comps[:, j]] for j in range(k)],
        "ks": [{"statistic": float(r.statistic), "pvalue": float(r.pvalue)} for r in ks],
        "reconstruction_mean_current": float(recon(cur).mean()),
        "reconstruction_mean_null": float(recon(null).mean()),
        "mmd": {"sigma": sigma, "mmd2_shift": float(mmd2(xs, ys, sigma)), "mmd2_null": float(mmd2(xs, ns, sigma))},
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "highdim_cases.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path}: k={k}, eigenvalues {[round(x, 3) for x in w[:k]]}, mmd2 shift {out['mmd']['mmd2_shift']:.5f} null {out['mmd']['mmd2_null']:.6f}")


if __name__ == "__main__":
    main()
