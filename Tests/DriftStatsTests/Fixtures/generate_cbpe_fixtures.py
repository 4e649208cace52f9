#!/usr/bin/env python3
"""Golden fixtures for CBPE (confidence-based performance estimation, issue 20) from the real NannyML package.

Run from anywhere, in a venv with the pinned versions (nannyml imports statsmodels without declaring it):
    python3 -m venv /tmp/venv-nanny
    /tmp/venv-nanny/bin/pip install "nannyml==0.13.1" "scikit-learn==1.7.*" "numpy==2.*" "scipy==1.17.*" statsmodels
    /tmp/venv-nanny/bin/python Tests/DriftStatsTests/Fixtures/generate_cbpe_fixtures.py
Writes cbpe_cases.json next to this file. Pinned: nannyml 0.13.1, scikit-learn 1.7.x (the isotonic calibrator and the
StratifiedShuffleSplit of `needs_calibration`), numpy 2.x, scipy 1.17.x; refuses other versions. Made with pandas 3.1.1.

Data. Three features x ~ N(μ, diag σ²) per block, a true log-odds f = a + 1.6·x₀ + 1.2·x₁ − 0.8·x₂, a label
y ~ Bernoulli(σ(f)), and the model's score s = σ(t·f + b) — an overconfident, shifted logistic model (t = 1.6,
b = −0.3; NannyML calibrates) or the true probability (t = 1, b = 0; NannyML keeps the raw scores). A covariate shift
moves and narrows x towards a region where the model is less certain, so accuracy, F1 and ROC AUC fall while
P(y | s) stays what it was on the reference: the premise CBPE relies on. y_pred = (s >= threshold), as the Swift model
derives it. numpy's default_rng(seed) draws everything, block by block, in the order listed.

Scores are stored exactly: s = k / 2³⁰ with the integer k in the JSON (clipped to [1, 2³⁰ − 1], made unique within each
case and never equal to threshold·2³⁰, so neither side meets a tie), labels as a string of '0'/'1'.

Per case the fixture holds NannyML's `CBPE(problem_type="classification_binary", metrics=[...], chunk_size=...)`
fitted on the reference and run on the analysis data: for every chunk of both periods its estimated value, sampling
error, confidence bounds, thresholds, alert flag and (for context) the realized value; NaN is written as null.

It also holds the calibration decision and what it was made of, replicated here step by step from
`nannyml.calibration.needs_calibration` (and checked against NannyML's own answer): the reference ROC AUC, the 10 bin
ECE of the pooled test folds before and after isotonic calibration, and a fingerprint of each StratifiedShuffleSplit
(n_splits=10, test_size=0.1, random_state=42) fold, so the Swift replica of that split can be checked. NannyML sorts
the calibrated test scores with numpy's unstable `argsort`, and isotonic output is full of ties, so the calibrated ECE
depends on how the sort orders labels inside a tie (numpy's order differs between CPUs). The fixture records it under
numpy's order on the generating machine, under a stable sort (the Swift rule) and its range over 200 random tie
orders; the script refuses a case whose decision is not the same for all of them.
"""
import json
import math
import os
import sys
import warnings

import numpy as np
import pandas as pd
import scipy
import sklearn

os.environ["NML_DISABLE_USAGE_LOGGING"] = "1"  # NannyML otherwise posts usage analytics to segment.io on fit/estimate
import nannyml  # noqa: E402
from nannyml.calibration import IsotonicCalibrator, _get_bin_index_edges, needs_calibration  # noqa: E402
from sklearn.isotonic import IsotonicRegression  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedShuffleSplit  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
if nannyml.__version__ != "0.13.1":
    sys.exit(f"nannyml 0.13.1 is the reference; found {nannyml.__version__}")
if not sklearn.__version__.startswith("1.7."):
    sys.exit(f"scikit-learn 1.7.x is required; found {sklearn.__version__}")
if not np.__version__.startswith("2."):
    sys.exit(f"numpy 2.x is required; found {np.__version__}")
if not scipy.__version__.startswith("1.17"):
    sys.exit(f"scipy 1.17.x is required; found {scipy.__version__}")

SCALE = 2 ** 30
METRICS = ["roc_auc", "f1", "precision", "recall", "accuracy"]
FIELDS = ["value", "sampling_error", "realized", "upper_confidence_boundary", "lower_confidence_boundary",
          "upper_threshold", "lower_threshold", "alert"]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def draw(rng, n, mu, sd, intercept, temperature, offset):
    x = rng.standard_normal((n, 3)) * np.asarray(sd) + np.asarray(mu)
    f = intercept + 1.6 * x[:, 0] + 1.2 * x[:, 1] - 0.8 * x[:, 2]
    y = (rng.random(n) < sigmoid(f)).astype(np.int64)
    return sigmoid(temperature * f + offset), y


def quantize(scores, threshold):
    """k = round(s·2³⁰) in [1, 2³⁰ − 1], unique, never threshold·2³⁰ (later duplicates move up by one)."""
    k = np.clip(np.rint(scores * SCALE).astype(np.int64), 1, SCALE - 1)
    seen = {int(threshold * SCALE)}
    for i in range(len(k)):
        v = int(k[i])
        while v in seen:
            v = v + 1 if v < SCALE - 1 else 1
        seen.add(v)
        k[i] = v
    return k


def ece(y_true, proba, edges, order):
    """nannyml.calibration._calculate_expected_calibration_error with the sort order given."""
    y_true, proba = y_true[order], proba[order]
    terms = [len(proba[lo:hi]) / len(proba) * abs(np.mean(proba[lo:hi]) - np.mean(y_true[lo:hi])) for lo, hi in edges]
    return float(np.sum(terms))


def calibration_check(y, s):
    """needs_calibration (nannyml/calibration.py) step by step, with the tie-order study described above."""
    out = {"reference_roc_auc": float(roc_auc_score(y, s))}
    sss = StratifiedShuffleSplit(n_splits=10, test_size=0.1, random_state=42)
    ys, ps, cs, splits = [], [], [], []
    for train, test in sss.split(s, y):
        iso = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(s[train], y[train])
        ys.append(y[test])
        ps.append(s[test])
        cs.append(iso.predict(s[test]))
        splits.append({"train_count": len(train), "test_count": len(test), "train_sum": int(train.sum()),
                       "test_sum": int(test.sum()), "test_head": [int(i) for i in test[:8]],
                       "train_head": [int(i) for i in train[:8]]})
    y_t, p_t, c_t = np.concatenate(ys), np.concatenate(ps), np.concatenate(cs)
    edges = _get_bin_index_edges(len(p_t), 10)
    before = ece(y_t, p_t, edges, p_t.argsort())
    after_numpy = ece(y_t, c_t, edges, c_t.argsort())
    after_stable = ece(y_t, c_t, edges, np.argsort(c_t, kind="stable"))
    rng = np.random.default_rng(4242)
    shuffled = []
    for _ in range(200):
        perm = rng.permutation(len(c_t))
        shuffled.append(ece(y_t, c_t, edges, perm[np.argsort(c_t[perm], kind="stable")]))
    lo, hi = min(shuffled + [after_numpy, after_stable]), max(shuffled + [after_numpy, after_stable])
    decision = before > after_numpy
    if out["reference_roc_auc"] > 0.999:
        sys.exit("case reaches the ROC AUC > 0.999 shortcut; the fixture wants the ECE comparison")
    if not (before > hi or before < lo):
        sys.exit(f"calibration decision depends on the tie order: ECE {before} vs calibrated in [{lo}, {hi}]")
    out.update({"ece_uncalibrated": before, "ece_calibrated_numpy": after_numpy,
                "ece_calibrated_stable": after_stable, "ece_calibrated_tie_range": [lo, hi],
                "needs_calibration": bool(decision), "splits": splits})
    return out


def frame(scores, labels, threshold):
    return pd.DataFrame({"y_pred_proba": scores, "y_pred": (scores >= threshold).astype(np.int64), "y_true": labels})


def cell(v):
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    v = float(v)
    return None if math.isnan(v) else v


def make_case(name, description, seed, threshold, chunk_size, n_reference, analysis_blocks, intercept, temperature, offset):
    rng = np.random.default_rng(seed)
    blocks = [(n_reference, [0, 0, 0], [1, 1, 1])] + analysis_blocks
    drawn = [draw(rng, n, mu, sd, intercept, temperature, offset) for n, mu, sd in blocks]
    k = quantize(np.concatenate([d[0] for d in drawn]), threshold)
    y = np.concatenate([d[1] for d in drawn])
    s = k / SCALE
    ref_s, ref_y, ref_k = s[:n_reference], y[:n_reference], k[:n_reference]
    ana_s, ana_y, ana_k = s[n_reference:], y[n_reference:], k[n_reference:]

    check = calibration_check(ref_y, ref_s)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = needs_calibration(ref_y, ref_s, IsotonicCalibrator())
        estimator = nannyml.CBPE(problem_type="classification_binary", y_pred_proba="y_pred_proba", y_pred="y_pred",
                                 y_true="y_true", metrics=METRICS, chunk_size=chunk_size)
        estimator.fit(frame(ref_s, ref_y, threshold))
        result = estimator.estimate(frame(ana_s, ana_y, threshold))
    if not (check["needs_calibration"] == direct == estimator.needs_calibration):
        sys.exit(f"{name}: the replicated calibration check disagrees with NannyML")

    data = result.data
    chunks = []
    for i in range(len(data)):
        row = data.iloc[i]
        chunks.append({
            "period": row[("chunk", "period")],
            "start": int(row[("chunk", "start_index")]),
            "end": int(row[("chunk", "end_index")]) + 1,
            "metrics": {m: {f: cell(row[(m, f)]) for f in FIELDS} for m in METRICS},
        })
    return {
        "name": name,
        "description": description,
        "seed": seed,
        "threshold": threshold,
        "chunk_size": chunk_size,
        "metrics": METRICS,
        "reference": {"scores": [int(v) for v in ref_k], "labels": "".join(str(int(v)) for v in ref_y)},
        "analysis": {"scores": [int(v) for v in ana_k], "labels": "".join(str(int(v)) for v in ana_y)},
        "calibration": check,
        "chunks": chunks,
    }


def main():
    unshifted = ([0, 0, 0], [1, 1, 1])
    cases = [
        make_case(
            "miscalibrated_covariate_shift",
            "overconfident scores s = σ(1.6f − 0.3), prevalence ≈ 0.3; reference 10,400 rows (10 chunks of 1,000 and a "
            "last one of 400, kept as NannyML does); analysis 6 unshifted chunks, 3 mildly and 3 strongly shifted",
            seed=2020, threshold=0.5, chunk_size=1000, n_reference=10400,
            analysis_blocks=[(1000, *unshifted)] * 6 + [(1000, [0.3, 0.2, 0.0], [0.7, 0.7, 1.0])] * 3
            + [(1000, [0.2, 0.1, 0.0], [0.45, 0.45, 0.6])] * 3,
            intercept=-1.0, temperature=1.6, offset=-0.3),
        make_case(
            "calibrated_scores_no_recalibration",
            "the true probability as score, prevalence ≈ 0.6 (ROC AUC's sampling error flips the classes); NannyML's "
            "ECE check keeps the raw scores; reference 10,500 rows in 7 chunks of 1,500; analysis 4 unshifted "
            "chunks and 4 shifted",
            seed=12, threshold=0.5, chunk_size=1500, n_reference=10500,
            analysis_blocks=[(1500, *unshifted)] * 4 + [(1500, [-0.5, -0.4, 0.0], [0.5, 0.5, 0.7])] * 4,
            intercept=0.7, temperature=1.0, offset=0.0),
        make_case(
            "rare_positives_small_chunks",
            "prevalence ≈ 0.05 in chunks of 60: reference chunks without a positive (or a predicted positive) have NaN "
            "realized precision/recall/F1/ROC AUC, which NannyML leaves out of the thresholds (nanmean, nanstd); "
            "reference 3,000 rows; analysis 5 unshifted chunks, 4 shifted and a last one of 25 rows",
            seed=7, threshold=0.5, chunk_size=60, n_reference=3000,
            analysis_blocks=[(300, *unshifted), (240, [1.0, 0.8, 0.0], [1.0, 1.0, 1.0]), (25, *unshifted)],
            intercept=-4.0, temperature=1.3, offset=-0.2),
    ]
    if cases[0]["calibration"]["needs_calibration"] is not True or cases[1]["calibration"]["needs_calibration"]:
        sys.exit("the cases no longer exercise both calibration decisions")
    nulls = sum(v is None for c in cases[2:] for ch in c["chunks"] for m in ch["metrics"].values() for v in m.values())
    if nulls == 0:
        sys.exit("the rare-positive case no longer has an undefined figure (its NaN paths would go untested)")
    doc = {
        "generator": "generate_cbpe_fixtures.py",
        "versions": {"nannyml": nannyml.__version__, "scikit-learn": sklearn.__version__, "numpy": np.__version__,
                     "scipy": scipy.__version__, "pandas": pd.__version__},
        "score_scale": SCALE,
        "cases": cases,
    }
    path = os.path.join(HERE, "cbpe_cases.json")
    with open(path, "w") as fh:
        json.dump(doc, fh, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
