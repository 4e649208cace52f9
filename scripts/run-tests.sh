#!/usr/bin/env bash
# `make test`, after the build: the whole suite (Swift Testing) in two steps, then the detection harness's quick run.
#
# 1. In-process tests, in two processes at once, each running its tests in parallel: the CPU-bound targets (statistics,
#    decoders, the JSON parser, fuzzing) in one, everything else that runs in-process (the store, queue and LISTEN
#    against PostgreSQL, triggers against HTTP servers on 127.0.0.1, DriftCore, DriftServer) in the other. A test
#    process has as many cooperative threads as cores (two here); CPU-bound tests hold them for seconds at a time, so
#    in one process the I/O tests' servers and continuations would wait for a minute behind them. Two processes share
#    the cores through the OS scheduler instead. (The test binary is run directly: two `swift test` runs would wait for
#    each other on the build folder's lock.)
# 2. EndToEndTests — the tests that run the drift-worker binary — one at a time.
# 3. Benchmarks/Detection/harness.py --quick: the default rules' false-alarm and detection rates on seeded synthetic
#    data through the debug binary (about a minute); it fails naming each missed target with its figures.
set -uo pipefail
cd "$(dirname "$0")/.."
SWIFT="${SWIFT:-swift}"
bin="$("$SWIFT" build --show-bin-path)/drift-workerPackageTests.xctest"
[ -x "$bin" ] || { echo "run-tests: $bin is missing; build with: swift build --build-tests" >&2; exit 2; }
cpu="DriftStatsTests|DriftCaptureTests|DriftCommonTests|SystemLibraryTests|CaptureFuzzTests"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

start=$SECONDS
"$bin" --testing-library swift-testing --filter "$cpu" > "$log" 2>&1 &
cpu_pid=$!
"$bin" --testing-library swift-testing --skip "EndToEndTests|$cpu"
io_status=$?
wait "$cpu_pid"
cpu_status=$?
echo "--- CPU-bound in-process tests (run alongside the above) ---"
cat "$log"
echo "--- in-process step: $((SECONDS - start)) s ---"
[ "$io_status" -eq 0 ] && [ "$cpu_status" -eq 0 ] || { echo "run-tests: in-process tests failed" >&2; exit 1; }

start=$SECONDS
"$SWIFT" test --skip-build --no-parallel --filter EndToEndTests || exit 1
echo "--- end-to-end step: $((SECONDS - start)) s ---"

start=$SECONDS
python3 Benchmarks/Detection/harness.py --quick --binary "$("$SWIFT" build --show-bin-path)/drift-worker" \
  || { echo "run-tests: the detection harness (quick) missed a target or could not run (see above)" >&2; exit 1; }
echo "--- detection step: $((SECONDS - start)) s ---"
