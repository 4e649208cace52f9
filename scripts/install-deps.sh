#!/usr/bin/env bash
# Installs what drift-worker needs to build and run, when missing: the system libraries it links
# (libpq, OpenBLAS + LAPACKE, libcurl), pkg-config, and the PostgreSQL server used by the demo and
# the tests. With --test (make test), also python3 with opentelemetry-proto (the trace tests' OTLP receiver),
# Prometheus, promtool and the Pushgateway (the observability tests run them) and Chromium with the DejaVu fonts (the
# report's layout check renders in headless Chromium) and numpy and scipy (the detection harness's quick run,
# Benchmarks/Detection/harness.py). With --bench, also wrk (the load generator of the capture
# benchmark) and numpy and scipy (the reference side of `make bench`), and pandas and polars at pinned versions (the
# reference side of the end-to-end benchmark, Benchmarks/bench_e2e.py).
set -euo pipefail

packages=(pkg-config libpq-dev libopenblas-dev liblapacke-dev libcurl4-openssl-dev zlib1g-dev postgresql)
[ "${1:-}" = "--bench" ] && packages+=(wrk)
# make test: the real Prometheus tools the observability tests run (Prometheus 2.42 with promtool, Pushgateway 1.5) and
# the browser of the report's layout check; make report-screenshot (--report): the browser only
[ "${1:-}" = "--test" ] && packages+=(prometheus prometheus-pushgateway chromium fonts-dejavu-core python3 python3-pip)
[ "${1:-}" = "--report" ] && packages+=(chromium fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# the OTLP receiver of the trace tests (scripts/otlp-trace-receiver.py) decodes with the published protobufs
if [ "${1:-}" = "--test" ] && ! python3 -c "import opentelemetry.proto.collector.trace.v1.trace_service_pb2" 2>/dev/null; then
  echo "install-deps: installing opentelemetry-proto for the trace tests' OTLP receiver"
  python3 -m pip install -q "opentelemetry-proto>=1.27,<2" 2>/dev/null \
    || python3 -m pip install -q --break-system-packages "opentelemetry-proto>=1.27,<2"
fi

if [ "${1:-}" = "--python" ] || [ "${1:-}" = "--bench" ] || [ "${1:-}" = "--test" ]; then
  if ! python3 -c "import numpy, scipy, sys; sys.exit(int(numpy.__version__.split('.')[0]) < 2)" 2>/dev/null; then
    echo "install-deps: installing numpy and scipy (the benchmark's reference side, the detection harness)"
    python3 -m pip install -q "numpy>=2" "scipy>=1.17,<1.18" 2>/dev/null \
      || python3 -m pip install -q --break-system-packages "numpy>=2" "scipy>=1.17,<1.18"
  fi
fi

# pinned, so that the end-to-end benchmark's reference side is the same program from run to run
if [ "${1:-}" = "--bench" ]; then
  bench_python=("pandas==3.1.1" "polars==2.1.0")
  if ! python3 -c "import pandas, polars, sys; sys.exit(pandas.__version__ != '3.1.1' or polars.__version__ != '2.1.0')" 2>/dev/null; then
    echo "install-deps: installing ${bench_python[*]} for the end-to-end benchmark's reference side"
    python3 -m pip install -q "${bench_python[@]}" 2>/dev/null \
      || python3 -m pip install -q --break-system-packages "${bench_python[@]}"
  fi
fi
