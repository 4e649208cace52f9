#!/usr/bin/env python3
"""`make bench`, end-to-end part (`make bench-e2e` alone): the drift-worker binary against pandas/polars + scipy
(Benchmarks/reference_e2e.py) on the same files on disk, whole processes, in the same run.

    python3 Benchmarks/bench_e2e.py

Each measurement runs every side as a child process, the sides alternated (ours, reference, ours, reference, ...)
so that a swing of the machine's load falls on both, repeated; each row prints every side's median wall time with
its min-max spread, the peak RSS of the process (ru_maxrss from wait4: the largest of the repetitions), and the
ratio of the medians (reference / ours: above 1 means drift-worker is faster). The files are written by
Benchmarks/e2e_data.py (seeded) into a temporary folder that is deleted afterwards.

Rows:
  compare   `drift-worker compare --reference ref.csv --current cur.csv`, 20 numeric columns, 200,000 vs 50,000
            rows, vs pandas + scipy and vs polars + scipy (same statistics; the results are cross-checked)
  warm      `drift-worker profile` of a 100,000 x 100 reference (timed against the Python side's precomputation),
            then `compare --reference ref.prf --current cur.csv` with 10,000, 100,000 and 1,000,000 current rows vs
            pandas + scipy starting from its own precomputed reference (sorted columns, edges, proportions: .npz)
  profile   `drift-worker profile` of a 1 GB CSV (default sample cap): MB/s and peak RSS, vs the Python side's
            precomputation; and `compare --reference big.csv` (a 1 GB reference) vs pandas + scipy
  ingest    `drift-worker ingest` into a throwaway local PostgreSQL: sample-data/fraud/traffic.csv.gz and the same
            traffic as KServe payload-logger JSON Lines (V1 and Open Inference Protocol bodies); events/s against
            `psql \\copy` of the same rows already in capture_events' text form (the ceiling for a client)

Environment:
  DRIFT_WORKER        the binary (default .build/release/drift-worker)
  BENCH_E2E_REPS      repetitions per side (default 5)
  BENCH_E2E_BIG_REPS  repetitions for the files of about 1 GB (default 3)
  BENCH_QUICK=1       skip the files of about 1 GB (the 1 GB profile/compare and the 1,000,000-row warm check)
  BENCH_E2E_BIG_MB    the size of the large CSV in MB (default 1000)
  BENCH_E2E_ONLY      comma-separated subset of compare,warm,profile,ingest
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.abspath(os.environ.get("DRIFT_WORKER") or os.path.join(ROOT, ".build", "release", "drift-worker"))
REPS = int(os.environ.get("BENCH_E2E_REPS") or 5)
BIG_REPS = int(os.environ.get("BENCH_E2E_BIG_REPS") or 3)
QUICK = os.environ.get("BENCH_QUICK") == "1"
BIG_MB = int(os.environ.get("BENCH_E2E_BIG_MB") or 1000)
ONLY = set((os.environ.get("BENCH_E2E_ONLY") or "compare,warm,profile,ingest").split(","))
PY = sys.executable
REF = os.path.join(HERE, "reference_e2e.py")


class Failed(Exception):
    pass


def run(argv, out_path=None, env=None):
    """Runs argv to completion; returns (wall seconds, peak RSS MB of that process).

    ru_maxrss from wait4 is the child's own peak (and at least that of this small harness at the exec)."""
    err_path = os.path.join(WORK, "stderr.txt")
    with open(out_path or os.devnull, "wb") as out, open(err_path, "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=ROOT)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        with open(err_path, errors="replace") as f:
            tail = f.read()[-2000:]
        raise Failed(f"{' '.join(argv)} exited with status {p.returncode}:\n{tail}")
    return seconds, usage.ru_maxrss / 1024.0


class Side:
    def __init__(self, name, argv, out=None, before=None, after=None, env=None):
        self.name, self.argv, self.out, self.before, self.after, self.env = name, argv, out, before, after, env
        self.times, self.rss = [], []

    def once(self):
        if self.before:
            self.before()
        s, r = run(self.argv, self.out, self.env)
        self.times.append(s)
        self.rss.append(r)
        if self.after:
            self.after()

    @property
    def median(self):
        return statistics.median(self.times)

    def text(self, unit=None):
        spread = f"[{min(self.times):.3f}-{max(self.times):.3f}]"
        extra = f" {unit(self.median)}" if unit else ""
        return f"{self.name} {self.median:7.3f} s {spread:>15}{extra}  RSS {max(self.rss):6.0f} MB"


def alternate(sides, reps):
    for _ in range(reps):
        for s in sides:
            s.once()


def report(label, ours, refs, targets=None, unit=None):
    """One line per reference: ours, the reference, the ratio of medians (reference / ours) and the target."""
    for ref in refs:
        ratio = ref.median / ours.median
        target = (targets or {}).get(ref.name)
        verdict = "" if target is None else (f"  meets >= {target}x" if ratio >= target else f"  BELOW >= {target}x target")
        print(f"{label:<44} {ours.text(unit)} | {ref.text(unit)} | ratio {ratio:5.2f}x{verdict}", flush=True)


def generate(*sets):
    out = subprocess.run([PY, os.path.join(HERE, "e2e_data.py"), WORK, *sets], cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return {d["file"]: d for d in map(json.loads, out.splitlines())}


def cross_check(ours_json, ref_json):
    """drift-worker's KS statistic, p-value and PSI per column against the reference's."""
    with open(ours_json) as f:
        ours = {x["name"]: x for x in json.load(f)["features"]}
    with open(ref_json) as f:
        ref = json.load(f)["features"]
    worst_d = worst_p = worst_psi = 0.0
    for name, (d, p, psi) in ref.items():
        o = ours[name]
        worst_d = max(worst_d, abs(o["ks"]["statistic"] - d))
        if p > 1e-300:
            worst_p = max(worst_p, abs(o["ks"]["pvalue"] - p) / p)
        worst_psi = max(worst_psi, abs(o["psi"] - psi) / max(abs(psi), 1e-300))
    ok = len(ours) == len(ref) and worst_d <= 1e-12 and worst_p <= 1e-6 and worst_psi <= 1e-9
    return (f"    {'results agree' if ok else 'RESULTS DIFFER'} on {len(ref)} columns: KS D max abs diff {worst_d:.1e}, "
            f"p-value max rel diff {worst_p:.1e}, PSI max rel diff {worst_psi:.1e}")


def mb(path):
    return os.path.getsize(path) / 1e6


def bench_compare():
    files = generate("compare")
    ref, cur = f"{WORK}/ref.csv", f"{WORK}/cur.csv"
    ours = Side("drift-worker", [BIN, "compare", "--reference", ref, "--current", cur, "--format", "json"], out=f"{WORK}/ours.json")
    pandas = Side("pandas+scipy", [PY, REF, "compare", "pandas", ref, cur], out=f"{WORK}/pandas.json")
    polars = Side("polars+scipy", [PY, REF, "compare", "polars", ref, cur], out=f"{WORK}/polars.json")
    alternate([ours, pandas, polars], REPS)
    size = (files["ref.csv"]["bytes"] + files["cur.csv"]["bytes"]) / 1e6
    report(f"compare 20 cols, 200k vs 50k rows ({size:.0f} MB)", ours, [pandas, polars], {"pandas+scipy": 6, "polars+scipy": 1.5})
    print(cross_check(f"{WORK}/ours.json", f"{WORK}/pandas.json"), flush=True)


def bench_warm():
    generate("warm-ref")
    wref = f"{WORK}/wref.csv"
    ours = Side("drift-worker", [BIN, "profile", "--reference", wref, "--out", f"{WORK}/wref.prf"])
    pandas = Side("pandas+numpy", [PY, REF, "profile", "pandas", wref, f"{WORK}/wref.npz"])
    alternate([ours, pandas], REPS)
    size = mb(wref)
    report(f"profile 100 cols x 100k rows ({size:.0f} MB)", ours, [pandas], unit=lambda s: f"{size / s:6.0f} MB/s")
    for n in [10_000, 100_000] + ([] if QUICK else [1_000_000]):
        generate(f"warm-{n}")
        cur = f"{WORK}/wcur_{n}.csv"
        ours = Side("drift-worker", [BIN, "compare", "--reference", f"{WORK}/wref.prf", "--current", cur, "--format", "json"], out=f"{WORK}/ours.json")
        pandas = Side("pandas+scipy", [PY, REF, "warm", "pandas", f"{WORK}/wref.npz", cur], out=f"{WORK}/pandas.json")
        alternate([ours, pandas], BIG_REPS if n >= 1_000_000 else REPS)
        report(f"warm 100 cols, profile vs {n:,} rows ({mb(cur):.0f} MB)", ours, [pandas], {"pandas+scipy": 5} if n == 1_000_000 else None)
        if n == 1_000_000:
            verdict = "meets" if max(ours.rss) <= 1200 else "ABOVE"
            print(f"    peak RSS {max(ours.rss):.0f} MB: {verdict} <= 1,200 MB target", flush=True)
        print(cross_check(f"{WORK}/ours.json", f"{WORK}/pandas.json"), flush=True)
        os.remove(cur)


def bench_profile():
    if QUICK:
        print("profile/compare of a 1 GB CSV: skipped (BENCH_QUICK=1)", flush=True)
        return
    generate(f"big-{BIG_MB}", *([] if os.path.exists(f"{WORK}/cur.csv") else ["compare"]))
    big = f"{WORK}/big.csv"
    size = mb(big)
    ours = Side("drift-worker", [BIN, "profile", "--reference", big, "--out", f"{WORK}/big.prf"])
    pandas = Side("pandas+numpy", [PY, REF, "profile", "pandas", big, f"{WORK}/big.npz"])
    alternate([ours, pandas], BIG_REPS)
    report(f"profile 20 cols, {size:.0f} MB CSV", ours, [pandas], unit=lambda s: f"{size / s:6.0f} MB/s")
    rate, rss = size / ours.median, max(ours.rss)
    print(f"    {rate:.0f} MB/s, peak RSS {rss:.0f} MB: {'meets' if rate >= 300 else 'BELOW'} >= 300 MB/s, "
          f"{'meets' if rss <= 300 else 'ABOVE'} <= 300 MB", flush=True)
    os.remove(f"{WORK}/big.npz")
    ours = Side("drift-worker", [BIN, "compare", "--reference", big, "--current", f"{WORK}/cur.csv", "--format", "json"], out=f"{WORK}/ours.json")
    pandas = Side("pandas+scipy", [PY, REF, "compare", "pandas", big, f"{WORK}/cur.csv"], out=f"{WORK}/pandas.json")
    alternate([ours, pandas], BIG_REPS)
    report(f"compare, reference a {size:.0f} MB CSV", ours, [pandas])
    print(f"    peak RSS {max(ours.rss):.0f} MB: {'meets' if max(ours.rss) <= 300 else 'ABOVE'} <= 300 MB target", flush=True)
    os.remove(big)


def bench_ingest():
    generate("kserve")
    pg_out = open(f"{WORK}/pg.out", "w+")
    pg = subprocess.Popen([BIN, "local-postgres", "--migrate"], stdout=pg_out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        url = None
        deadline = time.monotonic() + 300
        while url is None and time.monotonic() < deadline and pg.poll() is None:
            pg_out.seek(0)
            for line in pg_out.read().splitlines():
                if line.startswith("DATABASE_URL="):
                    url = line.split("=", 1)[1].strip("'")
            time.sleep(0.2)
        if url is None:
            pg_out.seek(0)
            raise Failed("the throwaway PostgreSQL (drift-worker local-postgres) did not start:\n" + pg_out.read()[-2000:])
        ingest_rows(url)
    finally:
        pg.send_signal(2)
        try:
            pg.wait(timeout=120)
        except subprocess.TimeoutExpired:
            pg.kill()
            pg.wait()
        pg_out.close()


def ingest_rows(url):
    env = dict(os.environ, DATABASE_URL=url)
    columns = "model, model_version, role, request_id, kind, observed_at, sample_key, numeric, categorical, payload"

    def psql(command):
        return subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", command], check=True, capture_output=True, text=True).stdout

    def truncate():
        psql("TRUNCATE drift.capture_events")

    print(f"ingest into a throwaway local PostgreSQL (fsync off, Unix socket; the server's memory is in neither RSS)", flush=True)
    inputs = [
        ("ingest traffic.csv.gz (CSV, gzip)", os.path.join(ROOT, "sample-data", "fraud", "traffic.csv.gz"), "csv"),
        ("ingest KServe V1 JSON Lines", f"{WORK}/kserve-v1.jsonl", "kserve"),
        ("ingest KServe OIP JSON Lines", f"{WORK}/kserve-oip.jsonl", "kserve"),
    ]
    for label, path, fmt in inputs:
        counted = []

        def count():
            counted.append(int(psql("SELECT count(*) FROM drift.capture_events")))

        argv = [BIN, "ingest", path, "--model", "fraud", "--format", fmt, "--config", "sample-data/monitors.yaml"]
        truncate()
        run(argv, env=env)  # once, untimed: the rows psql will load
        rows_file = f"{WORK}/rows.csv"
        psql(f"\\copy (SELECT {columns} FROM drift.capture_events) TO '{rows_file}' WITH (FORMAT csv)")
        ours = Side("drift-worker", argv, before=truncate, after=count, env=env)
        copy = Side("psql \\copy", ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c",
                                     f"\\copy drift.capture_events ({columns}) FROM '{rows_file}' WITH (FORMAT csv)"],
                    before=truncate, after=count)
        alternate([ours, copy], REPS)
        events = counted[0]
        if any(c != events for c in counted):
            raise Failed(f"{label}: row counts differ between runs: {counted}")
        report(f"{label}, {events:,} events", ours, [copy], unit=lambda s: f"{events / s:7.0f} ev/s")
        if fmt == "csv":
            rate = events / ours.median
            print(f"    {rate:,.0f} events/s: {'meets' if rate >= 80_000 else 'BELOW'} >= 80,000 events/s target", flush=True)
        os.remove(rows_file)
    truncate()


def main():
    global WORK
    if not os.access(BIN, os.X_OK):
        sys.exit(f"bench_e2e.py: no drift-worker binary at {BIN}: build it (swift build -c release --product drift-worker) or set DRIFT_WORKER")
    WORK = tempfile.mkdtemp(prefix="drift-bench-e2e-")
    try:
        version = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.strip()
        ref = json.loads(subprocess.run([PY, "-c", "import json, numpy, scipy, pandas, polars; print(json.dumps({m.__name__: m.__version__ "
                                                   "for m in (numpy, scipy, pandas, polars)}))"], capture_output=True, text=True, check=True).stdout)
        print(f"\nEnd to end (whole processes, files on disk) — drift-worker {version}; "
              + ", ".join(f"{k} {v}" for k, v in ref.items()) + f"; {os.cpu_count()} cores, load average "
              + " ".join(f"{x:.2f}" for x in os.getloadavg()))
        print(f"median wall time [min-max] of {REPS} alternated runs per side ({BIG_REPS} for ~1 GB files), peak RSS; "
              "ratio = reference median / ours (> 1: drift-worker faster)", flush=True)
        for name, fn in [("compare", bench_compare), ("warm", bench_warm), ("profile", bench_profile), ("ingest", bench_ingest)]:
            if name in ONLY:
                fn()
        print("load average at the end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    except Failed as e:
        sys.exit(f"bench_e2e.py: {e}")
    finally:
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
