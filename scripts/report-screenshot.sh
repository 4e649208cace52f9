#!/usr/bin/env bash
# Renders the drift report of the sample data's drifted window (the window where the actions fire) in headless
# Chromium to docs/report.png — the screenshot in the README. Installs Debian's chromium when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  echo "report-screenshot: installing chromium"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
.build/release/drift-worker demo --json --report "$out/report.html" > "$out/demo.json"
mkdir -p docs
# chromium refuses to run as root without --no-sandbox; the page has no script, so the sandbox guards nothing here
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
  --window-size=1200,1350 --screenshot="docs/report.png" "file://$out/report.html" 2>/dev/null

echo "report-screenshot: wrote docs/report.png ($(stat -c %s docs/report.png) bytes) from $(cat "$out/demo.json" | head -c 120)…"
