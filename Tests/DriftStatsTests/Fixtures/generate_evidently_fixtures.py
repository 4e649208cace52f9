#!/usr/bin/env python3
"""PSI values from the real Evidently package, for `--psi-binning sturges` golden tests.

Needs evidently 0.7.x with pandas < 3 (e.g. in a venv):
    python3 -m venv /tmp/ev && /tmp/ev/bin/pip install "evidently>=0.7,<0.8" "pandas<3" scipy
    /tmp/ev/bin/python Tests/DriftStatsTests/Fixtures/generate_evidently_fixtures.py
Writes evidently_cases.json next to this file. Data come from the same SplitMix64 recipes as
generate_fixtures.py.
"""
import json
import os
import sys

import evidently
import numpy as np
import pandas as pd
from evidently.legacy.calculations.stattests.psi import _psi
from evidently.legacy.core import ColumnType

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_fixtures import gen  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    numeric = []
    seed = 70000
    for n1, n2, dist, shift, scale, k in [(5000, 3000, "irwin", 0.0, 1.0, 0), (5000, 3000, "irwin", 0.4, 1.0, 0),
                                          (200, 150, "uniform", 0.1, 2.0, 0), (100000, 10000, "irwin", 0.05, 1.0, 0),
                                          (1000, 1000, "int", 0.0, 1.0, 8), (1000, 700, "int", 1.0, 1.0, 15),
                                          (30, 25, "irwin", 0.0, 1.0, 0), (20000, 5000, "uniform", 0.0, 1.0, 0),
                                          (3000, 3000, "int", 0.0, 1.0, 40)]:
        seed += 2
        x = {"n": n1, "seed": seed, "dist": dist, "a": 1.0, "b": 0.0, "k": k}
        y = {"n": n2, "seed": seed + 1, "dist": dist, "a": scale, "b": shift, "k": k}
        psi, _ = _psi(pd.Series(gen(x)), pd.Series(gen(y)), ColumnType.Numerical, 0.1)
        numeric.append({"x": x, "y": y, "psi": float(psi)})
    categorical = []
    rng = np.random.default_rng(99)
    for cats_ref, cats_cur, shift in [(5, 5, 0.0), (8, 10, 0.3), (3, 3, 0.8), (30, 32, 0.1)]:
        pr = rng.dirichlet(np.ones(cats_ref))
        pc = np.concatenate([pr, np.zeros(cats_cur - cats_ref)]) * (1 - shift) + shift * rng.dirichlet(np.ones(cats_cur))
        ref = rng.choice([f"c{i}" for i in range(cats_ref)], size=4000, p=pr)
        cur = rng.choice([f"c{i}" for i in range(cats_cur)], size=3000, p=pc / pc.sum())
        psi, _ = _psi(pd.Series(ref), pd.Series(cur), ColumnType.Categorical, 0.1)
        categorical.append({"reference": ref.tolist(), "current": cur.tolist(), "psi": float(psi)})
    with open(os.path.join(HERE, "evidently_cases.json"), "w") as f:
        json.dump({"evidently": evidently.__version__, "numeric": numeric, "categorical": categorical}, f,
                  separators=(",", ":"))
    print(f"evidently {evidently.__version__}: {len(numeric)} numeric, {len(categorical)} categorical cases")


if __name__ == "__main__":
    main()
