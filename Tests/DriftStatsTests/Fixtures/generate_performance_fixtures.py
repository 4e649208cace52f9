#!/usr/bin/env python3
"""Golden fixtures for realized model performance and isotonic regression (issue 20), with scikit-learn.

Run from anywhere, in a venv that has the pinned versions:
    python3 -m venv /tmp/venv-perf
    /tmp/venv-perf/bin/pip install "scikit-learn==1.7.*" "numpy==2.*" "scipy==1.17.*"
    /tmp/venv-perf/bin/python Tests/DriftStatsTests/Fixtures/generate_performance_fixtures.py
Writes performance_cases.json next to this file. Pinned: scikit-learn 1.7.x, numpy 2.x, scipy 1.17.x (scikit-learn's
isotonic regression runs scipy's PAVA and `interp1d`; the SplitMix64 recipes come from generate_fixtures.py, which
pins scipy 1.17). Refuses other versions.

Small cases are stored inline. Large ones (n = 20,000) are recipes over `uniforms(seed, n)` (SplitMix64, (z >> 11)·2⁻⁵³)
that PerformanceGoldenTests.swift rebuilds bit for bit with `Golden.uniforms`; every step is one IEEE operation
(no fused multiply-add), written the same way on both sides:

- binary {n, seed, levels, label_seed, link, threshold}: u = uniforms(seed); s = floor(u·levels)/levels when
  levels > 0 (ties), else u; v = uniforms(label_seed); label = v < s ("calibrated"), v < s·s ("overconfident"),
  v < 1 − s ("reversed"), s >= threshold ("all_correct"), s < threshold ("all_wrong"), false ("negative").
- multiclass {n, seed, classes, label_seed}: u = uniforms(seed, n·k) row-major; t = ((u₀ + u₁) + u₂) + …;
  p_j = u_j / t; predicted = the first argmax; v = uniforms(label_seed); label = the first j with v < c_j,
  c_0 = p_0, c_j = c_{j−1} + p_j (the last class if none).
- regression {n, seed, levels, scale, offset, noise_seed, noise}: u = uniforms(seed); y = floor(u·levels) + offset
  when levels > 0 (so y contains 0 for offset 0), else u·scale + offset; ŷ = y + (uniforms(noise_seed) − 0.5)·noise.
- isotonic {n, seed, levels, label_seed, weight_seed}: x = floor(u·levels)/levels or u; y = 1.0 if v < x else 0.0;
  w = uniforms(weight_seed) + 0.5 when weight_seed is present.

References (scikit-learn 1.7):
- accuracy_score; precision_score / recall_score / f1_score (binary: pos_label=1; multiclass: labels=classes,
  average="macro"), zero_division=0.0; roc_auc_score (binary; multiclass: multi_class="ovr", average="macro");
  log_loss (binary labels=[0, 1]; multiclass labels=classes), which clips to [eps, 1 − eps], eps = float64 eps;
  brier_score_loss (scale_by_half="auto": mean((p − y)²) for binary, mean Σ_k (p_k − 1[y=k])² for ≥ 3 classes,
  half that for two columns); mean_absolute_error; root_mean_squared_error; mean_absolute_percentage_error;
  r2_score (force_finite=True).
- ECE has no scikit-learn function: `ece()` below, 10 equal-width bins, bin = min(floor(10·s), 9). Where no score
  lies on an edge k/10 it is checked against the per-bin figures of
  `sklearn.calibration.calibration_curve(strategy="uniform", n_bins=10)` (whose bins are closed on the right).
- IsotonicRegression(increasing=True, out_of_bounds="clip").fit(x, y, sample_weight): X_thresholds_, y_thresholds_,
  predict() at new points and at the training x.
Multiclass probabilities are stored in the caller's class order; scikit-learn wants columns in sorted label order,
so they are permuted before the calls.
NaN is written as null.
"""
import json
import math
import os
import sys
import warnings

import numpy as np
import scipy
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import (accuracy_score, brier_score_loss, f1_score, log_loss, mean_absolute_error,
                             mean_absolute_percentage_error, precision_score, r2_score, recall_score,
                             roc_auc_score, root_mean_squared_error)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate_fixtures import uniforms  # noqa: E402  (the shared SplitMix64 stream)

HERE = os.path.dirname(os.path.abspath(__file__))
if not sklearn.__version__.startswith("1.7."):
    sys.exit(f"scikit-learn 1.7.x is the reference; found {sklearn.__version__}")
if not np.__version__.startswith("2."):
    sys.exit(f"numpy 2.x is the reference; found {np.__version__}")
if not scipy.__version__.startswith("1.17"):
    sys.exit(f"scipy 1.17.x is the reference; found {scipy.__version__}")

warnings.simplefilter("ignore")  # UndefinedMetricWarning for one-class windows and n < 2: the NaNs are the point


def num(v):
    v = float(v)
    return None if math.isnan(v) else v


# ---------------------------------------------------------------------------------------------------- binary


def ece(labels, scores):
    """Expected calibration error: 10 equal-width bins, bin = min(floor(10·s), 9), Σ_b (n_b/n)·|ȳ_b − s̄_b|."""
    n = len(scores)
    b = np.minimum(np.floor(scores * 10).astype(np.int64), 9)
    total = 0.0
    for k in range(10):
        m = b == k
        nb = int(m.sum())
        if nb == 0:
            continue
        total += nb / n * abs(labels[m].astype(np.float64).mean() - scores[m].mean())
    return total


def ece_from_calibration_curve(labels, scores):
    """The same figure from calibration_curve's per-bin means (valid when no score sits on an edge k/10)."""
    prob_true, prob_pred = calibration_curve(labels, scores, n_bins=10, strategy="uniform")
    bins = np.linspace(0.0, 1.0, 11)
    counts = np.bincount(np.searchsorted(bins[1:-1], scores), minlength=10)
    counts = counts[counts > 0]
    return float(np.sum(counts / len(scores) * np.abs(prob_true - prob_pred)))


def binary_expected(labels, scores, threshold):
    y = labels.astype(np.int64)
    pred = (scores >= threshold).astype(np.int64)
    out = {
        "accuracy": accuracy_score(y, pred),
        "precision": precision_score(y, pred, pos_label=1, zero_division=0.0),
        "recall": recall_score(y, pred, pos_label=1, zero_division=0.0),
        "f1": f1_score(y, pred, pos_label=1, zero_division=0.0),
        "roc_auc": roc_auc_score(y, scores),
        "log_loss": log_loss(y, scores, labels=[0, 1]),
        "brier": brier_score_loss(y, scores, pos_label=1),
        "ece": ece(labels, scores),
    }
    on_edge = np.any(np.isin(scores, np.arange(11) / 10.0))
    if len(np.unique(y)) == 2 and not on_edge:
        ref = ece_from_calibration_curve(y, scores)
        assert abs(ref - out["ece"]) <= 1e-12, (ref, out["ece"])
    return {k: num(v) for k, v in out.items()}


def binary_recipe(r):
    u = uniforms(r["seed"], r["n"])
    s = np.floor(u * r["levels"]) / r["levels"] if r["levels"] > 0 else u
    v = uniforms(r["label_seed"], r["n"])
    t = r["threshold"]
    link = r["link"]
    labels = {"calibrated": v < s, "overconfident": v < s * s, "reversed": v < 1.0 - s, "all_correct": s >= t,
              "all_wrong": s < t, "negative": np.zeros(r["n"], dtype=bool)}[link]
    return labels, s


def binary_inline(name, labels, scores, threshold=0.5):
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    return {"name": name, "labels": [bool(x) for x in labels], "scores": scores.tolist(), "threshold": threshold,
            "expected": binary_expected(labels, scores, threshold)}


def binary_cases():
    rng = np.random.default_rng(20)
    cases = [
        binary_inline("tiny with ties", [1, 0, 1, 1, 0, 0, 1, 0], [0.9, 0.4, 0.4, 0.65, 0.1, 0.65, 0.5, 0.5]),
        binary_inline("one row, positive", [1], [0.3]),
        binary_inline("only positives", [1, 1, 1, 1, 1, 1, 1], [0.2, 0.9, 0.55, 0.55, 1.0, 0.05, 0.7]),
        binary_inline("only negatives", [0, 0, 0, 0, 0, 0], [0.0, 0.15, 0.5, 0.49, 0.8, 0.8]),
        binary_inline("all correct", [1, 1, 0, 0, 1, 0, 0], [0.95, 0.5, 0.49, 0.1, 0.7, 0.0, 0.3]),
        binary_inline("all wrong", [0, 0, 1, 1, 0, 1, 1], [0.95, 0.5, 0.49, 0.1, 0.7, 0.0, 0.3]),
        binary_inline("scores exactly 0 and 1 (log-loss clipping, ECE's last bin)", [1, 0, 0, 1, 1, 0],
                      [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]),
        binary_inline("scores on bin edges", [1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1],
                      [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]),
        binary_inline("threshold 0.3", [1, 0, 1, 0, 0, 1, 1, 0, 1, 0], [0.3, 0.29, 0.8, 0.31, 0.05, 0.2, 0.6, 0.3, 0.95, 0.1],
                      threshold=0.3),
        binary_inline("everything predicted negative", [1, 0, 1, 0], [0.1, 0.2, 0.3, 0.4]),
    ]
    for n in (50, 300):
        s = np.round(rng.random(n) * 20) / 20  # ties
        y = rng.random(n) < s
        cases.append(binary_inline(f"random n={n}, scores on a 0.05 grid", y, s))
    s = rng.random(400)
    cases.append(binary_inline("random n=400, continuous, overconfident", rng.random(400) < s * s, s))
    recipes = [
        ("n=1000 continuous, calibrated", {"n": 1000, "seed": 2001, "levels": 0, "label_seed": 2002, "link": "calibrated"}),
        ("n=20000 continuous, calibrated", {"n": 20000, "seed": 2003, "levels": 0, "label_seed": 2004, "link": "calibrated"}),
        ("n=20000, 20 levels (ties), overconfident", {"n": 20000, "seed": 2005, "levels": 20, "label_seed": 2006,
                                                      "link": "overconfident"}),
        ("n=20000, 100 levels, reversed", {"n": 20000, "seed": 2007, "levels": 100, "label_seed": 2008, "link": "reversed"}),
        ("n=20000, one class (all negative)", {"n": 20000, "seed": 2009, "levels": 0, "label_seed": 2010, "link": "negative"}),
        ("n=20000, all correct", {"n": 20000, "seed": 2011, "levels": 7, "label_seed": 2012, "link": "all_correct"}),
        ("n=20000, all wrong", {"n": 20000, "seed": 2013, "levels": 0, "label_seed": 2014, "link": "all_wrong"}),
    ]
    for name, r in recipes:
        r["threshold"] = 0.5
        labels, s = binary_recipe(r)
        cases.append({"name": name, "recipe": r, "expected": binary_expected(labels, s, 0.5)})
    return cases


# ---------------------------------------------------------------------------------------------------- multiclass


def multiclass_expected(classes, labels, predicted, probabilities):
    out = {
        "accuracy": accuracy_score(labels, predicted),
        "precision": precision_score(labels, predicted, labels=classes, average="macro", zero_division=0.0),
        "recall": recall_score(labels, predicted, labels=classes, average="macro", zero_division=0.0),
        "f1": f1_score(labels, predicted, labels=classes, average="macro", zero_division=0.0),
    }
    if probabilities is not None:
        order = sorted(classes)
        p = np.asarray(probabilities, dtype=np.float64)[:, [classes.index(c) for c in order]]
        out["log_loss"] = log_loss(labels, p, labels=order)
        out["brier"] = brier_score_loss(labels, p, labels=order)
        if len(classes) > 2:
            out["roc_auc"] = roc_auc_score(labels, p, labels=order, multi_class="ovr", average="macro")
        else:
            # roc_auc_score refuses two columns; the one-vs-rest macro mean is _average_binary_score's formula
            y = np.asarray(labels)
            out["roc_auc"] = np.mean([roc_auc_score(y == c, p[:, j]) for j, c in enumerate(order)])
    return {k: num(v) for k, v in out.items()}


def multiclass_recipe(r):
    classes = r["classes"]
    n, k = r["n"], len(classes)
    u = uniforms(r["seed"], n * k).reshape(n, k)
    t = u[:, 0].copy()
    for j in range(1, k):
        t = t + u[:, j]
    p = u / t[:, None]
    predicted_index = np.argmax(p, axis=1)
    v = uniforms(r["label_seed"], n)
    label_index = np.full(n, k - 1)
    c = p[:, 0].copy()
    chosen = np.zeros(n, dtype=bool)
    for j in range(k):
        if j > 0:
            c = c + p[:, j]
        hit = (v < c) & ~chosen
        label_index[hit] = j
        chosen |= hit
    names = np.asarray(classes, dtype=object)
    return names[label_index].tolist(), names[predicted_index].tolist(), p


def multiclass_inline(name, classes, labels, predicted, probabilities):
    return {"name": name, "classes": classes, "labels": labels, "predicted": predicted,
            "probabilities": None if probabilities is None else np.asarray(probabilities).tolist(),
            "expected": multiclass_expected(classes, labels, predicted, probabilities)}


def random_multiclass(rng, classes, n, sharpen):
    k = len(classes)
    logits = rng.normal(size=(n, k)) * sharpen
    p = np.exp(logits)
    p = p / p.sum(axis=1, keepdims=True)
    labels = [classes[rng.choice(k, p=row)] for row in p]
    predicted = [classes[int(np.argmax(row))] for row in p]
    return labels, predicted, p


def multiclass_cases():
    rng = np.random.default_rng(21)
    cases = []
    classes3 = ["cat", "ant", "bee"]  # not sorted: the fixture keeps the caller's order
    labels, predicted, p = random_multiclass(rng, classes3, 120, 1.5)
    cases.append(multiclass_inline("3 classes, n=120, unsorted class order", classes3, labels, predicted, p))
    classes5 = ["c0", "c1", "c2", "c3", "c4"]
    labels, predicted, p = random_multiclass(rng, classes5, 250, 2.0)
    cases.append(multiclass_inline("5 classes, n=250", classes5, labels, predicted, p))
    labels, predicted, _ = random_multiclass(rng, classes5, 60, 1.0)
    cases.append(multiclass_inline("5 classes, labels only (no probabilities)", classes5, labels, predicted, None))
    # a class never seen and never predicted: its precision/recall/F1 count as 0, its one-vs-rest AUC is NaN
    labels, predicted, p = random_multiclass(rng, ["x", "y", "z"], 40, 1.0)
    labels = ["x" if c == "z" else c for c in labels]
    predicted = ["y" if c == "z" else c for c in predicted]
    cases.append(multiclass_inline("3 classes, one absent from labels and predictions", ["x", "y", "z"], labels, predicted, p))
    # probabilities exactly 0 and 1 (log-loss clipping), one row summing to 1 with ties
    cases.append(multiclass_inline(
        "3 classes, hard probabilities", ["a", "b", "c"], ["a", "b", "c", "a", "c"], ["a", "b", "b", "c", "c"],
        [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.25, 0.25, 0.5]]))
    labels, predicted, p = random_multiclass(rng, ["no", "yes"], 80, 1.0)
    cases.append(multiclass_inline("2 classes through the multiclass path (Brier halved)", ["no", "yes"], labels, predicted, p))
    for name, r in [("3 classes, n=20000", {"n": 20000, "seed": 3001, "classes": ["a", "b", "c"], "label_seed": 3002}),
                    ("5 classes, n=20000", {"n": 20000, "seed": 3003, "classes": ["v", "w", "x", "y", "z"], "label_seed": 3004})]:
        labels, predicted, p = multiclass_recipe(r)
        cases.append({"name": name, "recipe": r, "expected": multiclass_expected(r["classes"], labels, predicted, p)})
    return cases


# ---------------------------------------------------------------------------------------------------- regression


def regression_expected(y, yhat):
    y = np.asarray(y, dtype=np.float64)
    yhat = np.asarray(yhat, dtype=np.float64)
    out = {
        "mae": mean_absolute_error(y, yhat),
        "rmse": root_mean_squared_error(y, yhat),
        "mape": mean_absolute_percentage_error(y, yhat),
        "r2": r2_score(y, yhat),
    }
    return {k: num(v) for k, v in out.items()}


def regression_recipe(r):
    u = uniforms(r["seed"], r["n"])
    y = np.floor(u * r["levels"]) + r["offset"] if r["levels"] > 0 else u * r["scale"] + r["offset"]
    yhat = y + (uniforms(r["noise_seed"], r["n"]) - 0.5) * r["noise"]
    return y, yhat


def regression_inline(name, y, yhat, note=None, override=None):
    expected = regression_expected(y, yhat)
    case = {"name": name, "actual": [float(v) for v in y], "predicted": [float(v) for v in yhat], "expected": expected}
    if override:
        case["sklearn"] = dict(expected)
        expected.update(override)
        case["note"] = note
    return case


def regression_cases():
    rng = np.random.default_rng(22)
    cases = [
        regression_inline("small", [3.0, -0.5, 2.0, 7.0], [2.5, 0.0, 2.0, 8.0]),
        regression_inline("y contains 0 (MAPE's eps)", [0.0, 1.0, -2.0, 0.0, 4.0], [0.5, 1.1, -2.0, 0.0, 3.0]),
        regression_inline("one row (R² NaN)", [1.5], [2.0]),
        regression_inline("constant y, perfect fit (R² 1)", [3.0] * 6, [3.0] * 6),
        regression_inline("constant y, imperfect fit (R² 0)", [0.3] * 5, [0.3, 0.2, 0.4, 0.3, 0.5]),
        regression_inline("perfect fit", [1.0, 2.0, 4.0, 8.0], [1.0, 2.0, 4.0, 8.0]),
    ]
    # scikit-learn's force_finite tests the denominator Σ(y − mean(y))² against 0, and np.mean of a constant 0.1 is
    # not 0.1, so it returns −5.19e29; drift-worker tests "all y equal" exactly and returns 0.0.
    y = [0.1] * 3
    yhat = [0.1, 0.2, 0.1]
    assert np.mean(np.asarray(y)) != 0.1
    cases.append(regression_inline("constant y = 0.1 whose numpy mean is not 0.1 (documented difference)", y, yhat,
                                   note="scikit-learn's mean of [0.1, 0.1, 0.1] rounds away from 0.1, so its R² is "
                                        "1 − SSE/ε²-sized; drift-worker detects constant y exactly: 0.0",
                                   override={"r2": 0.0}))
    y = rng.normal(10, 3, 200)
    cases.append(regression_inline("random n=200", y, y + rng.normal(0, 1, 200)))
    y = rng.normal(0, 1e6, 100)
    cases.append(regression_inline("random n=100, scale 1e6", y, y * 1.01 + rng.normal(0, 1e4, 100)))
    for name, r in [
        ("n=20000 continuous", {"n": 20000, "seed": 4001, "levels": 0, "scale": 50.0, "offset": -10.0, "noise_seed": 4002,
                                "noise": 4.0}),
        ("n=20000 integers with zeros (MAPE's eps)", {"n": 20000, "seed": 4003, "levels": 5, "scale": 1.0, "offset": 0.0,
                                                     "noise_seed": 4004, "noise": 1.0}),
        ("n=20000 large values", {"n": 20000, "seed": 4005, "levels": 0, "scale": 1e9, "offset": 1e9, "noise_seed": 4006,
                                  "noise": 1e7}),
    ]:
        y, yhat = regression_recipe(r)
        cases.append({"name": name, "recipe": r, "expected": regression_expected(y, yhat)})
    return cases


# ---------------------------------------------------------------------------------------------------- isotonic


def isotonic_expected(x, y, w, queries):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    model = IsotonicRegression(increasing=True, out_of_bounds="clip")
    model.fit(x, y, sample_weight=None if w is None else np.asarray(w, dtype=np.float64))
    fitted = model.predict(x)
    return {
        "thresholds_x": model.X_thresholds_.tolist(),
        "thresholds_y": model.y_thresholds_.tolist(),
        "queries": list(map(float, queries)),
        "predictions": model.predict(np.asarray(queries, dtype=np.float64)).tolist(),
        "fitted": fitted,
    }


def isotonic_inline(name, x, y, w=None, queries=None):
    x = [float(v) for v in x]
    lo, hi = min(x), max(x)
    if queries is None:
        queries = [lo - 1.0, lo, hi, hi + 1.0] + list(np.linspace(lo, hi, 9)[1:-1] + (hi - lo) * 1e-3)
    e = isotonic_expected(x, y, w, queries)
    e["fitted"] = e["fitted"].tolist()
    return {"name": name, "x": x, "y": [float(v) for v in y], "weights": None if w is None else [float(v) for v in w], **e}


def isotonic_recipe(r):
    u = uniforms(r["seed"], r["n"])
    x = np.floor(u * r["levels"]) / r["levels"] if r["levels"] > 0 else u
    v = uniforms(r["label_seed"], r["n"])
    y = np.where(v < x, 1.0, 0.0)
    w = uniforms(r["weight_seed"], r["n"]) + 0.5 if "weight_seed" in r else None
    return x, y, w


def isotonic_cases():
    rng = np.random.default_rng(23)
    cases = [
        isotonic_inline("sklearn docstring example", np.arange(10), [5, 3, 1, 2, 8, 10, 7, 9, 6, 4]),
        isotonic_inline("ties in x", [1, 1, 2, 2, 2, 3, 4, 4, 5, 0.5], [3, 1, 2, 0, 4, 1, 6, 5, 2, 9]),
        isotonic_inline("ties in x with weights", [1, 1, 2, 2, 2, 3, 4, 4, 5], [3, 1, 2, 0, 4, 1, 6, 5, 2],
                        w=[0.5, 2, 1, 1, 3, 0.25, 1, 4, 2]),
        isotonic_inline("zero weights are dropped", [0, 1, 2, 3, 4, 5], [0, 9, 1, 2, -5, 3], w=[1, 0, 1, 1, 0, 1]),
        isotonic_inline("already monotone (runs of equal y trimmed)", [0, 1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 1, 2, 2, 2, 3]),
        isotonic_inline("strictly increasing", [0.5, 1.5, 2, 7], [-1, 0, 4, 4.5]),
        isotonic_inline("reversed (one block)", [0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0]),
        isotonic_inline("reversed with weights", [0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], w=[1, 2, 3, 4, 5, 6]),
        isotonic_inline("unsorted input", [3, 0, 2, 5, 1, 4], [0.7, 0.1, 0.2, 0.9, 0.4, 0.3]),
        isotonic_inline("one point", [2.5], [7.0], queries=[-1.0, 2.5, 10.0]),
        isotonic_inline("one distinct x", [2.5, 2.5, 2.5], [1.0, 4.0, 2.0], w=[1, 1, 2], queries=[0.0, 2.5, 3.0]),
        isotonic_inline("two points, violating", [0, 1], [1, 0]),
        isotonic_inline("x closer than 1e-15 merged (np.finfo resolution)", [0.0, 5e-16, 1e-15, 1.2e-15, 1.0],
                        [1.0, 0.0, 3.0, 2.0, 4.0], queries=[0.0, 5e-16, 1e-15, 0.5, 1.0]),
        isotonic_inline("negative and large x", [-1e6, -3.5, 0, 2e-3, 1e9], [2, 1, 5, 3, 4]),
        isotonic_inline("binary labels on scores with ties", np.round(rng.random(60) * 10) / 10,
                        (rng.random(60) < 0.5).astype(float)),
    ]
    x = rng.random(200)
    cases.append(isotonic_inline("random n=200, weights", x, x + rng.normal(0, 0.3, 200), w=rng.random(200) * 3 + 0.1))
    for name, r in [
        ("n=20000 continuous scores vs labels (CBPE's calibration)", {"n": 20000, "seed": 5001, "levels": 0, "label_seed": 5002}),
        ("n=20000, 500 levels, weights", {"n": 20000, "seed": 5003, "levels": 500, "label_seed": 5004, "weight_seed": 5005}),
    ]:
        x, y, w = isotonic_recipe(r)
        queries = [-0.5, 0.0, 1e-4, 0.1234, 0.25, 0.5, 0.5 + 1e-9, 0.77, 0.999, 1.0, 2.0]
        e = isotonic_expected(x, y, w, queries)
        fitted = e.pop("fitted")
        step = 400
        e["fitted_every"] = step
        e["fitted"] = fitted[::step].tolist()
        e["fitted_sum"] = float(math.fsum(fitted))
        cases.append({"name": name, "recipe": r, **e})
    return cases


def main():
    out = {
        "versions": {"scikit-learn": sklearn.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
        "binary": binary_cases(),
        "multiclass": multiclass_cases(),
        "regression": regression_cases(),
        "isotonic": isotonic_cases(),
    }
    path = os.path.join(HERE, "performance_cases.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, allow_nan=False)
        f.write("\n")
    print(f"wrote {path}: " + ", ".join(f"{k} {len(v)}" for k, v in out.items() if isinstance(v, list)))


if __name__ == "__main__":
    main()
