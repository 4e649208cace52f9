#!/usr/bin/env python3
"""Detection-quality harness (`make detection`; `--quick` runs in `make test`): how often the drift-worker binary's
default rules catch known shifts, and how often they flag features that did not move.

    python3 Benchmarks/Detection/harness.py [--binary PATH] [--quick] [--trials N] [--regimes R,...]
                                            [--scenarios S,...] [--seed N] [--jobs N] [--json OUT]
                                            [--baseline EARLIER.json]

Each trial writes a reference and a current CSV (Benchmarks/Detection/scenarios.py says what each scenario models)
into a temporary folder and runs

    drift-worker compare --reference R.csv --current C.csv --format json --categorical c3,c8,c15,c30 --numeric ...

with every other setting at its default. From the JSON (`features[].name/drifted/reasons`, `dataset.drifted`) it
counts, per regime x scenario x target feature:

  detect     share of trials where the target feature is drifted
  rules      share of trials where each rule fired on the target (a rule is a reason's text before its first ':',
             e.g. `ks`, `psi`, `chi_square`, `missing rate`; whatever rules the binary has are counted)
  false al.  share of (trial, feature) pairs flagged among the features that did not move: the 9 non-targets, or
             all 10 for `none` (for `trivial`, every feature moved trivially: all 10 count as false alarms)
  dataset    share of trials where `dataset.drifted` (a false alarm for `none` and `trivial`)

then checks issue 19's targets (and, with --baseline, that what an earlier run caught stays caught) and prints
PASS/FAIL for each. Exit status: 0 all targets met, 1 a target failed, 2 a usage error or a compare that could not
run (the binary missing, failing, printing other JSON, or rebuilt during the run).
"""

import argparse
import collections
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenarios as sc  # noqa: E402

DEFAULT_TRIALS = {"1000/500": 100, "10000/5000": 30, "200000/50000": 30}
# --quick (make test, with the debug binary: about a minute on two loaded cores): per regime its trials and the
# scenarios with a target there; the detection targets are checked on the figures pooled over a scenario's targets
# and the no-drift false alarms pooled over `none` and the unmoved features of the drift scenarios (about 2,000
# feature-trials at 1000/500), so that a rule meeting a target with a little margin passes.
QUICK_TRIALS = {"1000/500": 10, "10000/5000": 3}
QUICK_SCENARIOS = {
    "1000/500": ["none", "trivial", "mean_0.25sd", "scale_1.5", "share_10pp", "unseen_1.5pct", "missing_1_to_6"],
    "10000/5000": ["none", "trivial", "share_10pp", "unseen_1.5pct", "missing_1_to_6"],
}
# the missing-rate rule does not depend on the shape: two shapes (one tied) are enough for --quick
QUICK_TARGETS = {"missing_1_to_6": ["num_normal", "num_rounded"]}
COMPARE_TIMEOUT_S = 600


class HarnessError(Exception):
    """The run cannot measure: the message says what to fix (exit status 2)."""


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=".build/release/drift-worker", help="the drift-worker binary (default: %(default)s)")
    p.add_argument("--trials", type=int, help="trials per regime, scenario and target (default: 100 at 1000/500, else 30)")
    p.add_argument("--regimes", help=f"comma-separated subset of {','.join(sc.REGIMES)} (reference/current rows)")
    p.add_argument("--scenarios", help=f"comma-separated subset of {','.join(sc.SCENARIOS)}")
    p.add_argument("--quick", action="store_true", help="the make test version: 1000/500 and 10000/5000, fewer trials and scenarios")
    p.add_argument("--seed", type=int, default=19, help="base seed (default: %(default)s)")
    p.add_argument("--jobs", type=int, default=2, help="compares run at once (default: %(default)s)")
    p.add_argument("--json", dest="json_out", help="also write every figure and target verdict here")
    p.add_argument(
        "--baseline",
        help="a --json file of an earlier run (e.g. the previous binary): also FAIL each regime/scenario/target it caught in >= 95%% of trials"
        " that this run catches in fewer (issue 19: everything caught today stays caught)",
    )
    a = p.parse_args(argv)
    if a.trials is not None and a.trials < 1:
        p.error("--trials must be at least 1")
    if a.jobs < 1:
        p.error("--jobs must be at least 1")
    if a.seed < 0:
        p.error("--seed must be 0 or more")
    a.regime_list = _subset(p, "--regimes", a.regimes, list(QUICK_TRIALS) if a.quick else list(sc.REGIMES), sc.REGIMES)
    a.scenario_lists = {}  # regime -> the scenarios run there
    for r in a.regime_list:
        default = QUICK_SCENARIOS.get(r, list(sc.SCENARIOS)) if a.quick else list(sc.SCENARIOS)
        a.scenario_lists[r] = _subset(p, "--scenarios", a.scenarios, default, sc.SCENARIOS)
    a.baseline_doc = None
    if a.baseline:
        try:
            with open(a.baseline) as f:
                a.baseline_doc = json.load(f)
            a.baseline_doc["regimes"].items()
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            p.error(f"--baseline {a.baseline}: not a --json file of this harness ({e})")
    if not (os.path.isfile(a.binary) and os.access(a.binary, os.X_OK)):
        p.error(f"--binary {a.binary} is not an executable file; build it with `swift build -c release --product drift-worker`")
    a.binary_identity = binary_identity(a.binary)
    return a


def _subset(parser, option, value, default, known):
    if value is None:
        return default
    names = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in names if v not in known]
    if unknown or not names:
        parser.error(f"{option}: unknown {', '.join(unknown) or '(empty list)'}; choose from {', '.join(known)}")
    return names


def targets_of(args, scenario):
    """The target features of `scenario` in this run ([None] for none/trivial)."""
    if args.quick and scenario in QUICK_TARGETS:
        return QUICK_TARGETS[scenario]
    return sc.SCENARIOS[scenario] or [None]


def trials_for(args, regime):
    if args.trials is not None:
        return args.trials
    return (QUICK_TRIALS if args.quick else DEFAULT_TRIALS)[regime]


def binary_identity(binary):
    """What identifies the binary's file: a rebuild during the run (a new inode, size or mtime) would mix two rule sets."""
    st = os.stat(binary)
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def compare(binary, identity, reference, current):
    cmd = [binary, "compare", "--reference", reference, "--current", current, "--format", "json",
           "--categorical", ",".join(sc.CATEGORICAL), "--numeric", ",".join(s.name for s in sc.NUMERIC)]  # fmt: skip
    rebuilt = HarnessError(f"{binary} changed during the run (rebuilt?): its figures would mix two binaries; run again once it is built")
    try:
        if binary_identity(binary) != identity:
            raise rebuilt
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=COMPARE_TIMEOUT_S)
        if binary_identity(binary) != identity:
            raise rebuilt
    except subprocess.TimeoutExpired:
        raise HarnessError(f"`{' '.join(cmd)}` did not finish within {COMPARE_TIMEOUT_S} s")
    except OSError as e:
        raise HarnessError(f"cannot run {binary} ({e.strerror}; being rebuilt?)")
    if r.returncode != 0:
        raise HarnessError(f"`{' '.join(cmd)}` exited with status {r.returncode}: {r.stderr.strip()[:2000] or '(no message)'}")
    try:
        doc = json.loads(r.stdout)
        features = {f["name"]: (bool(f["drifted"]), [str(x).split(":", 1)[0].strip() for x in f.get("reasons", [])]) for f in doc["features"]}
        dataset = bool(doc["dataset"]["drifted"])
    except (ValueError, KeyError, TypeError) as e:
        raise HarnessError(f"`{' '.join(cmd)}` printed JSON without features[].name/drifted/reasons or dataset.drifted ({e!r})")
    missing = set(sc.FEATURES) - set(features)
    if missing:
        raise HarnessError(f"`{' '.join(cmd)}` reported no result for {', '.join(sorted(missing))}")
    return features, dataset


class Cell:
    """Counts of one (regime, scenario, target[, window]) over its trials."""

    def __init__(self):
        self.trials = 0
        self.detected = 0
        self.rules = collections.Counter()
        self.fa = 0
        self.fa_total = 0
        self.fa_rules = collections.Counter()
        self.fa_by_feature = collections.Counter()
        self.dataset = 0

    def add(self, features, dataset, target):
        self.trials += 1
        self.dataset += dataset
        if target is not None:
            drifted, rules = features[target]
            self.detected += drifted
            self.rules.update(set(rules))
        for name, (drifted, rules) in features.items():
            if name == target:
                continue
            self.fa_total += 1
            if drifted:
                self.fa += 1
                self.fa_by_feature[name] += 1
                self.fa_rules.update(set(rules))

    def merge(self, other):
        for k in ("trials", "detected", "fa", "fa_total", "dataset"):
            setattr(self, k, getattr(self, k) + getattr(other, k))
        self.rules.update(other.rules)
        self.fa_rules.update(other.fa_rules)
        self.fa_by_feature.update(other.fa_by_feature)

    def as_json(self):
        return {
            "trials": self.trials,
            "detected": self.detected,
            "detection_rate": rate(self.detected, self.trials),
            "rules": dict(sorted(self.rules.items())),
            "false_alarms": self.fa,
            "false_alarm_opportunities": self.fa_total,
            "false_alarm_rate": rate(self.fa, self.fa_total),
            "false_alarm_rules": dict(sorted(self.fa_rules.items())),
            "false_alarms_by_feature": dict(sorted(self.fa_by_feature.items())),
            "dataset_drifted": self.dataset,
            "dataset_drifted_rate": rate(self.dataset, self.trials),
        }


def rate(k, n):
    return k / n if n else None


def pct(k, n):
    return "   —  " if not n else f"{100.0 * k / n:5.1f}%"


def run_regime(args, regime, tmp, progress):
    """All trials of one regime: {(scenario, target, window): Cell}. The main thread writes trial t+1's reference
    while the pool runs trial t's compares; at most two trials' files exist at once."""
    cells = collections.defaultdict(Cell)
    slow = collections.defaultdict(lambda: [False] * sc.SLOW_DRIFT_WINDOWS)  # (target, trial) -> flagged per window
    trials = trials_for(args, regime)
    tasks = [(s, t, w) for s in args.scenario_lists[regime] for t in targets_of(args, s) for w in range(sc.windows(s))]

    def one(trial, reference, scenario, target, window):
        current = os.path.join(tmp, f"cur-{trial}-{scenario}-{target}-{window}.csv")
        sc.write_current(current, args.seed, regime, scenario, target, trial, window)
        try:
            return compare(args.binary, args.binary_identity, reference, current)
        finally:
            os.unlink(current)

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        in_flight = collections.deque()
        try:
            for trial in range(trials):
                reference = os.path.join(tmp, f"ref-{trial}.csv")
                sc.write_reference(reference, args.seed, regime, trial)
                futures = [((s, t, w), pool.submit(one, trial, reference, s, t, w)) for s, t, w in tasks]
                in_flight.append((trial, reference, futures))
                while len(in_flight) > 1 or (trial == trials - 1 and in_flight):
                    done_trial, ref, fs = in_flight[0]
                    for (s, t, w), f in fs:
                        features, dataset = f.result()
                        cells[(s, t, w)].add(features, dataset, t)
                        if s == "slow_drift":
                            slow[(t, done_trial)][w] = features[t][0]
                    in_flight.popleft()
                    os.unlink(ref)
                    progress()
        except BaseException:
            # a compare failed (or ^C): drop the queued ones instead of running them before reporting
            for _, _, fs in in_flight:
                for _, f in fs:
                    f.cancel()
            raise
    first = collections.defaultdict(list)  # target -> first window flagged per trial (None: never)
    for (t, _), flags in sorted(slow.items()):
        first[t].append(flags.index(True) if True in flags else None)
    return cells, first


def summarise(cells, scenario, targets=None):
    """One Cell merging a scenario's targets (all, or `targets`) at window 0."""
    total = Cell()
    for (s, t, w), c in cells.items():
        if s == scenario and w == 0 and (targets is None or t in targets):
            total.merge(c)
    return total


def rules_text(counter, n):
    return " ".join(f"{r} {100.0 * k / n:.0f}%" for r, k in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))) or "—"


def print_regime(args, regime, cells, first):
    ref_n, cur_n = sc.REGIMES[regime]
    trials = trials_for(args, regime)
    print(f"\n== {ref_n:,} reference / {cur_n:,} current rows, {trials} trials per scenario and target ==")
    print(f"{'scenario':<15} {'target':<16} {'detect':>6}  {'false al.':>9}  {'dataset':>7}  rules on the target (false-alarm rules)")
    for s in args.scenario_lists[regime]:
        if s == "slow_drift":
            continue
        targets = targets_of(args, s)
        for t in targets:
            c = cells[(s, t, 0)]
            det = pct(c.detected, c.trials) if t is not None else "   —  "
            fa_rules = f" ({rules_text(c.fa_rules, c.fa)})" if c.fa else ""
            line = f"{s:<15} {t or '(all features)':<16} {det:>6}  {pct(c.fa, c.fa_total):>9}  {pct(c.dataset, c.trials):>7}  "
            print((line + (rules_text(c.rules, c.trials) if t is not None else "") + fa_rules).rstrip())
        if len(targets) > 1:
            m = summarise(cells, s)
            print(f"{s:<15} {'(average)':<16} {pct(m.detected, m.trials):>6}  {pct(m.fa, m.fa_total):>9}  {pct(m.dataset, m.trials):>7}")
    if "slow_drift" in args.scenario_lists[regime]:
        shifts = " ".join(f"{slow_shift(w):4.2f}" for w in range(sc.SLOW_DRIFT_WINDOWS))
        print(f"slow_drift       shift in sd:    {shifts}   first window flagged (median; never)")
        for t in targets_of(args, "slow_drift"):
            per_window = [cells[("slow_drift", t, w)] for w in range(sc.SLOW_DRIFT_WINDOWS)]
            flagged = " ".join(f"{100.0 * c.detected / c.trials:3.0f}%" for c in per_window)
            print(f"  {t:<16} flagged: {flagged}   {first_flagged_text(first[t])}")


def slow_shift(window):
    return sc.SLOW_DRIFT_MAX_SD * window / (sc.SLOW_DRIFT_WINDOWS - 1)


def first_flagged_text(firsts):
    caught = sorted(w for w in firsts if w is not None)
    never = len(firsts) - len(caught)
    middle = len(firsts) // 2  # the median trial, never-flagged trials counted as last
    median = f"window {caught[middle]}" if middle < len(caught) else "never"
    return f"{median}; never in {never}/{len(firsts)}"


# The single-target scenarios whose 9 other features are unmoved: their false alarms count like `none`'s.
DRIFT_SCENARIOS = [s for s, t in sc.SCENARIOS.items() if t is not None]


def check_targets(args, regime, cells):
    """Issue 19's targets that this regime's figures can decide: [(name, k, n, passed, detail)]. --quick checks the
    pooled figures only (see QUICK_TRIALS)."""
    out = []
    cur_n = sc.REGIMES[regime][1]
    scenario_list = args.scenario_lists[regime]

    def at_most(name, k, n, limit, detail=""):
        out.append((f"{regime} {name} <= {100 * limit:g}%", k, n, k <= limit * n + 1e-9, detail))

    def at_least(name, k, n, limit, detail=""):
        out.append((f"{regime} {name} >= {100 * limit:g}%", k, n, k >= limit * n - 1e-9, detail))

    def lowest(scenario):
        per = [(cells[(scenario, t, 0)].detected / cells[(scenario, t, 0)].trials, t) for t in targets_of(args, scenario)]
        r, t = min(per)
        return f"lowest: {t} {100 * r:.1f}%"

    none = cells[("none", None, 0)] if "none" in scenario_list else None
    unmoved = Cell()
    for s in scenario_list:
        if s in DRIFT_SCENARIOS and s != "slow_drift":
            unmoved.merge(summarise(cells, s))
    if args.quick:
        pooled = Cell()
        for c in [none] if none else []:
            pooled.merge(c)
        pooled.merge(unmoved)
        if pooled.fa_total:
            at_most("no-drift false alarms per feature (none + unmoved features of the drift scenarios)", pooled.fa, pooled.fa_total, 0.01)
    else:
        if none:
            top = none.fa_by_feature.most_common(1)
            at_most("none: false alarms per feature", none.fa, none.fa_total, 0.01, f"most: {top[0][0]} {top[0][1]}/{none.trials}" if top else "")
        if unmoved.fa_total:
            at_most("unmoved features in the drift scenarios: false alarms", unmoved.fa, unmoved.fa_total, 0.01)
    if none:
        at_most("none: dataset-level false alarms", none.dataset, none.trials, 0.01)
    if "trivial" in scenario_list:
        c = cells[("trivial", None, 0)]
        at_most("trivial (0.02 sd / 0.5 pp): false alarms per feature", c.fa, c.fa_total, 0.05)
        at_most("trivial: dataset-level false alarms", c.dataset, c.trials, 0.05)
    if "share_10pp" in scenario_list:
        c = summarise(cells, "share_10pp")
        if cur_n >= 5_000 or not args.quick:
            at_least("share_10pp detection", c.detected, c.trials, 0.95 if cur_n >= 5_000 else 0.80, lowest("share_10pp"))
        else:
            # The 80 % at 500 current rows is not met by a share test that pays for choosing its category (about
            # 72 % in the full run; README, "Measured detection and false-alarm rates"): --quick guards against a
            # regression below the measured level instead, so that make test stays a check of what is true.
            at_least("share_10pp detection (regression floor; the issue's 80% is not met at 500 rows)", c.detected, c.trials, 0.55,
                     lowest("share_10pp"))
    if cur_n <= 500:
        for s in ("mean_0.25sd", "scale_1.5"):
            if s not in scenario_list:
                continue
            c = summarise(cells, s)
            at_least(f"{s} detection (average of the shapes)", c.detected, c.trials, 0.85, lowest(s))
            if not args.quick:
                for t in targets_of(args, s):
                    c = cells[(s, t, 0)]
                    at_least(f"{s} detection on {t}", c.detected, c.trials, 0.85)
    for s in ("missing_1_to_6", "unseen_1.5pct"):
        if s in scenario_list:
            c = summarise(cells, s)
            at_least(f"{s} detection", c.detected, c.trials, 0.95, lowest(s))
    return out


def check_baseline(args, regime, cells):
    """Targets from --baseline: every (scenario, target) of `regime` the baseline caught in >= 95 % of its trials must
    be caught in >= 95 % now."""
    out = []
    old = args.baseline_doc["regimes"].get(regime, {}).get("scenarios", {})
    for s in args.scenario_lists[regime]:
        if s not in old or sc.SCENARIOS[s] is None or s == "slow_drift":
            continue
        for t in targets_of(args, s):
            before = old[s].get(t, {}).get("detection_rate")
            if before is None or before < 0.95:
                continue
            c = cells[(s, t, 0)]
            name = f"{regime} {s} on {t} stays caught >= 95%"
            out.append((name, c.detected, c.trials, c.detected >= 0.95 * c.trials - 1e-9, f"baseline {100 * before:.1f}%"))
    return out


def main(argv):
    args = parse_args(argv)
    started = time.monotonic()
    print(f"detection harness: {args.binary}, seed {args.seed}, {args.jobs} jobs{'; quick' if args.quick else ''}")
    tmp = tempfile.mkdtemp(prefix="drift-detection-")
    report = {"binary": args.binary, "seed": args.seed, "quick": args.quick, "regimes": {}, "targets": []}
    verdicts = []
    try:
        for regime in args.regime_list:
            t0 = time.monotonic()
            done = [0]
            total = trials_for(args, regime)

            def progress():
                done[0] += 1
                if sys.stderr.isatty():
                    print(f"\r{regime}: trial {done[0]}/{total}", end="", file=sys.stderr, flush=True)

            cells, first = run_regime(args, regime, tmp, progress)
            if sys.stderr.isatty():
                print("\r", end="", file=sys.stderr)
            print_regime(args, regime, cells, first)
            print(f"({time.monotonic() - t0:.0f} s)")
            verdicts += check_targets(args, regime, cells)
            if args.baseline_doc is not None:
                verdicts += check_baseline(args, regime, cells)
            report["regimes"][regime] = regime_json(args, regime, cells, first)
    except HarnessError as e:
        print(f"detection harness: {e}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("\n== targets (issue 19) ==")
    for name, k, n, passed, detail in verdicts:
        print(f"{'PASS' if passed else 'FAIL'}  {name}: {pct(k, n).strip()} ({k}/{n}){'; ' + detail if detail else ''}")
        report["targets"].append({"target": name, "count": k, "of": n, "rate": rate(k, n), "passed": passed, "detail": detail})
    failed = [v for v in verdicts if not v[3]]
    elapsed = time.monotonic() - started
    report["runtime_s"] = round(elapsed, 1)
    if args.json_out:
        try:
            with open(args.json_out, "w") as f:
                json.dump(report, f, indent=1)
        except OSError as e:
            print(f"detection harness: cannot write --json {args.json_out}: {e.strerror}", file=sys.stderr)
            return 2
    print(f"\n{len(verdicts) - len(failed)} of {len(verdicts)} targets met in {elapsed:.0f} s")
    if failed:
        print(f"detection harness: {len(failed)} target(s) FAILED:", file=sys.stderr)
        for name, k, n, _, detail in failed:
            print(f"  {name}: measured {pct(k, n).strip()} ({k}/{n}){'; ' + detail if detail else ''}", file=sys.stderr)
        return 1
    return 0


def regime_json(args, regime, cells, first):
    ref_n, cur_n = sc.REGIMES[regime]
    out = {"reference_rows": ref_n, "current_rows": cur_n, "trials": trials_for(args, regime), "scenarios": {}}
    for s in args.scenario_lists[regime]:
        targets = targets_of(args, s)
        entry = {}
        for t in targets:
            key = t or "(all features)"
            if s == "slow_drift":
                windows = [dict(cells[(s, t, w)].as_json(), shift_sd=slow_shift(w)) for w in range(sc.SLOW_DRIFT_WINDOWS)]
                entry[key] = {"windows": windows, "first_window_flagged": first[t]}
            else:
                entry[key] = cells[(s, t, 0)].as_json()
        if s != "slow_drift" and len(targets) > 1:
            entry["(average)"] = summarise(cells, s).as_json()
        out["scenarios"][s] = entry
    return out


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
