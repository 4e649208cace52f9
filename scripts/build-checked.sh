#!/usr/bin/env bash
# `swift build` with every argument given, its output kept in a log, and a failure when the compiler warned about
# our own code (Sources/, Tests/, Benchmarks/) or SwiftPM about files of our package it does not know what to do
# with. Warnings in dependencies (.build/checkouts) are theirs and are not counted. An incremental build only
# recompiles what changed, so this catches new warnings in what you touched; a fresh clone (CI) checks everything.
set -uo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
swift build "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || exit "$status"
ours=$(grep -E "^(${root}/)?(Sources|Tests|Benchmarks)/[^ ]*: warning:|^warning: 'main':" "$log" | sort -u || true)
if [ -n "$ours" ]; then
    echo
    echo "error: the build warned about drift-worker's own code (fix it; warnings are not allowed):" >&2
    echo "$ours" >&2
    exit 1
fi
