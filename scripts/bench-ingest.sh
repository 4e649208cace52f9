#!/usr/bin/env bash
# `make bench`, capture part: HTTP ingest throughput of `drift-worker ingest-server` on 127.0.0.1, durable
# (every 200 is committed before it is sent), with the load from a separate process (wrk, Debian's package).
# KServe-logger-style binary-mode CloudEvents (each stamped with its send time), V1 bodies of the sample fraud model's 10 input features:
#   batches of 100 instances per request, 32 connections   target >= 80,000 events/s (issue 18)
#   one instance per request, 64 connections               target >= 3,000 requests/s
# Afterwards the rows in capture_events are counted: at least every acknowledged event must be there.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/drift-worker
SECONDS_EACH="${BENCH_INGEST_SECONDS:-10}"
work="$(mktemp -d)"
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  [ -n "${pg:-}" ] && kill -INT "$pg" 2>/dev/null && wait "$pg" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$BIN" local-postgres --migrate > "$work/pg.out" 2>&1 &
pg=$!
for _ in $(seq 1 120); do grep -q "^DATABASE_URL=" "$work/pg.out" 2>/dev/null && break; sleep 0.5; done
export DATABASE_URL="$(sed -n "s/^DATABASE_URL='\(.*\)'$/\1/p" "$work/pg.out")"
[ -n "$DATABASE_URL" ] || { echo "bench-ingest: the local PostgreSQL did not start:"; cat "$work/pg.out"; exit 1; }

LOG_FORMAT=json "$BIN" ingest-server --config sample-data/monitors.yaml --http-host 127.0.0.1 --http-port 0 > "$work/server.log" 2>&1 &
server=$!
port=""
for _ in $(seq 1 120); do
  port="$(grep -o 'http.port[^0-9]*[0-9]*' "$work/server.log" 2>/dev/null | grep -o '[0-9]*$' | head -1 || true)"
  [ -n "$port" ] && break; sleep 0.5
done
[ -n "$port" ] || { echo "bench-ingest: ingest-server did not start:"; cat "$work/server.log"; exit 1; }

python3 - "$work" <<'PY'
import json, sys, datetime
inst = {"amount": 42.5, "hour_of_day": 13, "merchant_category": "grocery", "country": "US", "device_type": "web",
        "card_present": "false", "distance_from_home_km": 3.2, "transactions_last_24h": 2, "account_age_days": 400,
        "avg_amount_30d": 40.1}
for n, name in [(100, "batch"), (1, "single")]:
    body = json.dumps({"instances": [inst] * n})
    open(f"{sys.argv[1]}/{name}.lua", "w").write(f'''
wrk.method = "POST"
wrk.body = {json.dumps(body)}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["ce-specversion"] = "1.0"
wrk.headers["ce-type"] = "org.kubeflow.serving.inference.request"
wrk.headers["ce-source"] = "http://localhost:9081/"
wrk.headers["ce-inferenceservicename"] = "fraud"
local counter = 0
request = function()
  counter = counter + 1
  -- each event stamped with the time it is sent, as KServe's logger stamps it (not one time for the whole run)
  wrk.headers["ce-time"] = os.date("!%Y-%m-%dT%H:%M:%SZ")
  wrk.headers["ce-id"] = "{name}-" .. counter
  return wrk.format(nil, "/v1/capture")
end
''')
PY

rows() { psql "$DATABASE_URL" -Atc "SELECT count(*) FROM drift.capture_events"; }
run() {  # script label connections events-per-request unit target
  local name=$1 label=$2 conns=$3 per=$4 what=$5 target=$6 before after out reqs bad rps value verdict
  before=$(rows)
  out="$(wrk -t1 -c"$conns" -d"${SECONDS_EACH}s" -s "$work/$name.lua" "http://127.0.0.1:$port" 2>&1)"
  sleep 0.5
  after=$(rows)
  reqs=$(echo "$out" | grep -o '[0-9]* requests in' | grep -o '^[0-9]*')
  bad=$(echo "$out" | grep -o 'Non-2xx or 3xx responses: [0-9]*' | grep -o '[0-9]*$' || true); bad=${bad:-0}
  rps=$(echo "$out" | grep 'Requests/sec' | awk '{print $2}')
  lat=$(echo "$out" | grep 'Latency' | awk '{print $2}')
  value=$(python3 -c "print(round($rps * $per))")
  verdict=$(python3 -c "print('meets' if $value >= $target else 'BELOW')")
  durable=$(python3 -c "print('all acknowledged events committed' if $after - $before >= ($reqs - $bad) * $per else 'LOST EVENTS')")
  printf '%-44s %8s %-12s (%s req/s, mean latency %s, %s connections)  %s >= %s  | %s: %s rows for %s acknowledged, %s non-2xx\n' \
    "$label" "$value" "$what" "$rps" "$lat" "$conns" "$verdict" "$target" "$durable" "$((after - before))" "$(( (reqs - bad) * per ))" "$bad"
}
echo
echo "HTTP capture — ingest-server on 127.0.0.1 (throwaway PostgreSQL, fsync off), wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), ${SECONDS_EACH} s each"
run batch "100 instances per request" 32 100 events/s 80000
run single "1 instance per request" 64 1 requests/s 3000
