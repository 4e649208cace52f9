#!/usr/bin/env bash
# The `make demo` story. Part 1: the worker on a throwaway PostgreSQL — three days of the sample fraud
# model's captured traffic, checked hour by hour, drift found from the drift hour on, actions fired once
# after two drifted windows and then held back by the cooldown. Part 2: `compare` on two files.
set -euo pipefail
bin=${DRIFT_WORKER:-.build/release/drift-worker}
data=sample-data/fraud
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "######## Part 1 — drift-worker demo (monitor sample-data/monitors.yaml, traffic sample-data/fraud/traffic.csv.gz)"
"$bin" demo
echo
echo "######## Part 2 — drift-worker compare on files"
echo "== A window without drift"
"$bin" compare --reference $data/reference.csv --current $data/current_no_drift.csv --format table
echo
echo "== A window with injected drift (amount, merchant_category, score)"
"$bin" compare --reference $data/reference.csv --current $data/current_drift.csv --format table
echo
echo "== The same from a precomputed reference profile; --fail-on-drift exits 3 for CI pipelines"
"$bin" profile --reference $data/reference.csv --out "$tmp/reference.profile"
set +e
"$bin" compare --reference "$tmp/reference.profile" --current $data/current_drift.csv --format json --fail-on-drift > "$tmp/out.json"
status=$?
set -e
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["dataset"]; print(json.dumps({k: d[k] for k in ("feature_count","drifted_count","drifted_share","drifted")}))' "$tmp/out.json" 2>/dev/null || head -c 300 "$tmp/out.json"
echo "exit status: $status"
