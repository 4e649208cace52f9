#!/usr/bin/env bash
# The `make demo` story for the statistics engine: compare the sample fraud model's training
# snapshot with a window without drift and a window with drift, then do the same from a profile.
set -euo pipefail
bin=${DRIFT_WORKER:-.build/release/drift-worker}
data=sample-data/fraud
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== 1. A window without drift"
"$bin" compare --reference $data/reference.csv --current $data/current_no_drift.csv --format table
echo
echo "== 2. A window with injected drift (amount, merchant_category, score)"
"$bin" compare --reference $data/reference.csv --current $data/current_drift.csv --format table
echo
echo "== 3. The same from a precomputed reference profile, as JSON (dataset verdict)"
"$bin" profile --reference $data/reference.csv --out "$tmp/reference.profile"
"$bin" compare --reference "$tmp/reference.profile" --current $data/current_drift.csv --format json \
  | python3 -c 'import json,sys; d=json.load(sys.stdin)["dataset"]; print(json.dumps({k: d[k] for k in ("feature_count","drifted_count","drifted_share","drifted")}))' \
  2>/dev/null || "$bin" compare --reference "$tmp/reference.profile" --current $data/current_drift.csv --format json
echo
echo "== 4. In a CI pipeline: --fail-on-drift exits 3 when the dataset drifts"
set +e
"$bin" compare --reference "$tmp/reference.profile" --current $data/current_drift.csv --format json --fail-on-drift >/dev/null
echo "exit status: $?"
