"""Seeded synthetic streams with known truth for the detection-quality harness (Benchmarks/Detection/harness.py).

Every dataset has the same 10 features:

  num_normal       N(50, 10)                                   a well-behaved measurement (latency, a score)
  num_lognormal    10 * LogNormal(0, 0.6)                      a right-skewed positive amount (price, basket size)
  num_uniform      U(0, 100)                                   a bounded, flat input (a percentile, an id hash)
  num_bimodal      0.4 N(0, 1) + 0.6 N(4, 1)                   two populations mixed (new vs returning users)
  num_exponential  Exp(scale 5)                                a waiting time / inter-arrival gap
  num_rounded      round(N(5, 1.5))                            a tied, integer-valued input (a rating, a count);
                                                               every shift is applied to the latent value and the
                                                               rounding AFTER it, so the data stays tied
  c3               3 categories, shares 0.5 / 0.3 / 0.2        a low-cardinality flag (device type)
  c8, c15, c30     8, 15, 30 categories, Zipf-like (p_k ~ 1/k)  categorical inputs with a long tail (merchant category,
                                                               country, product line)

Every numeric feature has exactly 1 % of its cells missing (empty) on both sides, at random rows.

Scenarios (what each models; the shift goes to ONE target feature per trial unless said, the other 9 features are
drawn unchanged and count towards false alarms). sigma and mu are the reference DISTRIBUTION's sd and mean (for
num_rounded, those of the latent N(5, 1.5)):

  none            no drift anywhere: the false-alarm floor (per feature and dataset-level).
  trivial         every numeric mean + 0.02 sigma and every categorical top share - 0.5 pp, all features at once: a
                  shift too small to matter to a model; flagging it is a false alarm.
  mean_0.25sd     x -> x + 0.25 sigma on one numeric feature: a sensor offset, a pricing change.
  scale_1.5       x -> mu + 1.5 (x - mu): the spread grows (a noisier upstream source) at the same mean.
  share_10pp      a categorical's top category share - 10 pp, the mass spread over the others in proportion: a
                  traffic-mix change (one merchant category loses ten points).
  unseen_1.5pct   exactly 1.5 % of the current rows (rounded) of one categorical get a category the reference never
                  has: a new app version, a new country.
  missing_1_to_6  one numeric feature's missing share goes from exactly 1 % (reference) to exactly 6 % (current): a
                  broken upstream join; 0.06 - 0.01 < 0.05 in floating point, issue 19's threshold-arithmetic case.
  tails           values above the distribution's 95th percentile q stretched: x -> q + 2 (x - q): drift in the tail
                  only (fraud amounts grow, the bulk does not move).
  bimodal_split   num_bimodal's first-component weight 0.4 -> 0.55: the population mix moves between two modes.
  slow_drift      8 successive windows whose mean shift grows linearly 0 -> 0.3 sigma on one numeric feature: a
                  gradual drift; the harness reports the first window flagged.

Seeding: a trial's reference depends only on (seed, regime, trial); a current sample on (seed, regime, scenario,
target, trial, window). A scenario's trials therefore use independent references, the scenarios of one trial share
its reference (so one reference file serves them all), and running a subset of regimes or scenarios draws the same
data as the full run.
"""

import dataclasses
import os

import numpy as np
from scipy import optimize, stats

REGIMES = {"1000/500": (1_000, 500), "10000/5000": (10_000, 5_000), "200000/50000": (200_000, 50_000)}

MISSING_SHARE = 0.01

# A categorical feature's shares: c3 fixed, the others p_k ~ 1/k (Zipf, exponent 1).
CATEGORY_COUNTS = {"c3": 3, "c8": 8, "c15": 15, "c30": 30}


def category_shares(name):
    k = CATEGORY_COUNTS[name]
    if k == 3:
        return np.array([0.5, 0.3, 0.2])
    p = 1.0 / np.arange(1, k + 1)
    return p / p.sum()


def category_labels(name):
    return np.array([f"{name}_{i:02d}" for i in range(CATEGORY_COUNTS[name])] + [f"{name}_new"], dtype=object)


@dataclasses.dataclass(frozen=True)
class NumericShape:
    """A numeric feature's distribution: `latent` draws it, `rounded` rounds after any shift; `mean`/`sd`/`q95` are
    the distribution's (not a sample's)."""

    name: str
    mean: float
    sd: float
    q95: float
    rounded: bool = False

    def latent(self, rng, n, bimodal_weight=0.4):
        if self.name == "num_normal":
            return rng.normal(50.0, 10.0, n)
        if self.name == "num_lognormal":
            return 10.0 * rng.lognormal(0.0, 0.6, n)
        if self.name == "num_uniform":
            return rng.uniform(0.0, 100.0, n)
        if self.name == "num_bimodal":
            first = rng.random(n) < bimodal_weight
            return np.where(first, rng.normal(0.0, 1.0, n), rng.normal(4.0, 1.0, n))
        if self.name == "num_exponential":
            return rng.exponential(5.0, n)
        if self.name == "num_rounded":
            return rng.normal(5.0, 1.5, n)
        raise ValueError(self.name)


def _bimodal_q95():
    cdf = lambda x: 0.4 * stats.norm.cdf(x) + 0.6 * stats.norm.cdf(x, 4.0)  # noqa: E731
    return optimize.brentq(lambda x: cdf(x) - 0.95, 0.0, 10.0)


_lognormal = stats.lognorm(s=0.6, scale=10.0)
NUMERIC = [
    NumericShape("num_normal", 50.0, 10.0, stats.norm.ppf(0.95, 50.0, 10.0)),
    NumericShape("num_lognormal", _lognormal.mean(), _lognormal.std(), _lognormal.ppf(0.95)),
    NumericShape("num_uniform", 50.0, 100.0 / np.sqrt(12.0), 95.0),
    # mixture: mean 0.6 * 4, variance 1 + 0.4 * 0.6 * 4^2
    NumericShape("num_bimodal", 2.4, np.sqrt(1.0 + 0.24 * 16.0), _bimodal_q95()),
    NumericShape("num_exponential", 5.0, 5.0, stats.expon.ppf(0.95, scale=5.0)),
    NumericShape("num_rounded", 5.0, 1.5, stats.norm.ppf(0.95, 5.0, 1.5), rounded=True),
]
NUMERIC_BY_NAME = {s.name: s for s in NUMERIC}
CATEGORICAL = list(CATEGORY_COUNTS)
FEATURES = [s.name for s in NUMERIC] + CATEGORICAL

SLOW_DRIFT_WINDOWS = 8
SLOW_DRIFT_MAX_SD = 0.3

# scenario -> the features that are its targets (one per trial); None: no single target (all features are
# compared against the no-drift truth, or all are shifted trivially).
SCENARIOS = {
    "none": None,
    "trivial": None,
    "mean_0.25sd": [s.name for s in NUMERIC],
    "scale_1.5": [s.name for s in NUMERIC],
    "share_10pp": CATEGORICAL,
    "unseen_1.5pct": CATEGORICAL,
    "missing_1_to_6": [s.name for s in NUMERIC],
    "tails": [s.name for s in NUMERIC],
    "bimodal_split": ["num_bimodal"],
    "slow_drift": [s.name for s in NUMERIC],
}
SCENARIO_INDEX = {name: i for i, name in enumerate(SCENARIOS)}
REGIME_INDEX = {name: i for i, name in enumerate(REGIMES)}


def windows(scenario):
    """How many current windows a trial of `scenario` draws (8 for slow_drift, else 1)."""
    return SLOW_DRIFT_WINDOWS if scenario == "slow_drift" else 1


def _rng(*key):
    return np.random.default_rng(np.random.SeedSequence([int(k) for k in key]))


def _numeric_column(shape, rng, n, missing_share, transform=None, bimodal_weight=0.4):
    x = shape.latent(rng, n, bimodal_weight)
    if transform is not None:
        x = transform(x)
    if shape.rounded:
        x = np.round(x)
    out = x.astype(np.float32).astype(np.dtypes.StringDType())
    missing = int(round(missing_share * n))
    out[rng.choice(n, missing, replace=False)] = ""
    return out


def _categorical_column(name, rng, n, shares, unseen_count=0):
    labels = category_labels(name)
    codes = rng.choice(len(shares), n, p=shares)
    if unseen_count:
        codes[rng.choice(n, unseen_count, replace=False)] = len(labels) - 1
    return labels[codes].astype(np.dtypes.StringDType())


def _top_share_moved(shares, points):
    """The top category's share lowered by `points` (0.10 = 10 pp), the mass spread over the others in proportion."""
    moved = shares.copy()
    moved[0] -= points
    rest = shares[1:].sum()
    moved[1:] += points * shares[1:] / rest
    return moved


def _write_csv(path, columns):
    row = None
    for name in FEATURES:
        row = columns[name] if row is None else np.strings.add(np.strings.add(row, ","), columns[name])
    with open(path, "w") as f:
        f.write(",".join(FEATURES) + "\n")
        f.write("\n".join(row.tolist()))
        f.write("\n")


def write_reference(path, seed, regime, trial):
    """The reference CSV of (regime, trial): every feature undrifted, 1 % missing on each numeric feature."""
    n = REGIMES[regime][0]
    rng = _rng(seed, REGIME_INDEX[regime], trial, 0)
    columns = {s.name: _numeric_column(s, rng, n, MISSING_SHARE) for s in NUMERIC}
    columns.update({c: _categorical_column(c, rng, n, category_shares(c)) for c in CATEGORICAL})
    _write_csv(path, columns)


def write_current(path, seed, regime, scenario, target, trial, window=0):
    """The current CSV of one trial of `scenario` on `target` (None for none/trivial), window `window` of slow_drift."""
    n = REGIMES[regime][1]
    target_index = FEATURES.index(target) if target is not None else len(FEATURES)
    rng = _rng(seed, REGIME_INDEX[regime], trial, 1 + SCENARIO_INDEX[scenario], target_index, window)
    columns = {}
    for s in NUMERIC:
        transform, missing, weight = None, MISSING_SHARE, 0.4
        mu, sd = s.mean, s.sd
        if scenario == "trivial":
            transform = lambda x, d=0.02 * sd: x + d  # noqa: E731
        elif s.name == target:
            if scenario == "mean_0.25sd":
                transform = lambda x, d=0.25 * sd: x + d  # noqa: E731
            elif scenario == "scale_1.5":
                transform = lambda x, m=mu: m + 1.5 * (x - m)  # noqa: E731
            elif scenario == "missing_1_to_6":
                missing = 0.06
            elif scenario == "tails":
                transform = lambda x, q=s.q95: np.where(x > q, q + 2.0 * (x - q), x)  # noqa: E731
            elif scenario == "bimodal_split":
                weight = 0.55
            elif scenario == "slow_drift":
                d = SLOW_DRIFT_MAX_SD * sd * window / (SLOW_DRIFT_WINDOWS - 1)
                transform = lambda x, d=d: x + d  # noqa: E731
        columns[s.name] = _numeric_column(s, rng, n, missing, transform, weight)
    for c in CATEGORICAL:
        shares, unseen = category_shares(c), 0
        if scenario == "trivial":
            shares = _top_share_moved(shares, 0.005)
        elif c == target and scenario == "share_10pp":
            shares = _top_share_moved(shares, 0.10)
        elif c == target and scenario == "unseen_1.5pct":
            unseen = int(round(0.015 * n))
        columns[c] = _categorical_column(c, rng, n, shares, unseen)
    _write_csv(path, columns)


if __name__ == "__main__":
    # A look at one trial's files: python3 scenarios.py OUTDIR [regime] [scenario] [target]
    import sys

    out = sys.argv[1]
    regime = sys.argv[2] if len(sys.argv) > 2 else "1000/500"
    scenario = sys.argv[3] if len(sys.argv) > 3 else "none"
    target = sys.argv[4] if len(sys.argv) > 4 else None
    os.makedirs(out, exist_ok=True)
    write_reference(os.path.join(out, "reference.csv"), 0, regime, 0)
    write_current(os.path.join(out, "current.csv"), 0, regime, scenario, target, 0)
