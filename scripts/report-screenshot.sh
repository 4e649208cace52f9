#!/usr/bin/env bash
# Renders the drift report of the sample data's drifted window (the window where the actions fire) in headless
# Chromium to docs/report.png — the screenshot in the README — after checking its layout there
# (scripts/check-report-layout.py). Installs Debian's chromium when missing (scripts/install-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --report
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# DRIFT_WORKER: another build of drift-worker (e.g. .build/debug/drift-worker: the report is the same)
"${DRIFT_WORKER:-.build/release/drift-worker}" demo --json --report "$out/report.html" > "$out/demo.json"
scripts/check-report-layout.py "$out/report.html"
mkdir -p docs
# chromium refuses to run as root without --no-sandbox; the page has no script, so the sandbox guards nothing here
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
  --window-size=1200,1560 --screenshot="docs/report.png" "file://$out/report.html" 2>/dev/null

echo "report-screenshot: wrote docs/report.png ($(stat -c %s docs/report.png) bytes) from $(cat "$out/demo.json" | head -c 120)…"
