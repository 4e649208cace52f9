# drift-worker — the README's commands. Each target first installs missing system packages.
SWIFT ?= swift

.PHONY: deps build image demo test sanitize lint format bench bench-e2e detection report-screenshot fixtures fixtures-performance sample-data clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product drift-worker

# The container image (Dockerfile): built with podman, buildah or docker, whichever works here, then
# `drift-worker version` run in it. The name and tag default to those jobs/kustomization.yaml sets
# (registry.example.com/drift-worker:0.1.0): `make image IMAGE=<registry>/drift-worker:<tag>` for another.
IMAGE ?= $(shell awk '/newName:/ { n = $$2 } /newTag:/ { t = $$2 } END { print n ":" t }' jobs/kustomization.yaml)
image:
	@IMAGE=$(IMAGE) scripts/build-image.sh

demo: build
	@scripts/demo.sh

test:
	@scripts/install-deps.sh --test
	@scripts/validate-manifests.sh
	@scripts/build-checked.sh --build-tests
	# In-process tests in parallel (two processes: CPU-bound targets beside the rest), then the tests that run the
	# drift-worker binary (EndToEndTests) one at a time; scripts/run-tests.sh says why.
	@SWIFT=$(SWIFT) scripts/run-tests.sh
	# The image's release binary (--static-swift-stdlib, in .build-static) needs only the Dockerfile's runtime packages.
	@SWIFT=$(SWIFT) scripts/check-runtime-libs.sh

# The Swift sources as swift-format (part of the Swift 6 toolchain) with the committed .swift-format formats them;
# generated protobuf code is left as protoc-gen-swift writes it. `make format` rewrites them so.
SWIFT_SOURCES = $(shell find Sources Tests Benchmarks -name '*.swift' ! -name '*.pb.swift' ! -path '*/.build*' | sort) Package.swift
lint:
	$(SWIFT) format lint --strict --parallel $(SWIFT_SOURCES)
	@scripts/check-declared-imports.py

format:
	$(SWIFT) format format -i --parallel $(SWIFT_SOURCES)

# ThreadSanitizer over the statistics tests (the code that runs on several threads: ParallelMap, FastSort, the
# Smirnov sums), the block reader's parallel pieces (CSV and JSON Lines) and the concurrency of the I/O layers (the libpq pool on its NIOThreadPool, LISTEN, the queue's wake-ups,
# libcurl's handle pool and token single-flight, the readiness probe's shared check) and AddressSanitizer over the decoders' tests (the capture decoders, the JSON parser, the fuzzing: every
# byte of a hostile input is read by them), each in
# its own build folder so the inner loop's .build stays warm. OpenBLAS runs single-threaded under TSan: its own
# pthreads are not instrumented. LeakSanitizer is off: it cannot see the pointers Swift keeps in enum payloads' spare
# bits (indirect enums, Foundation's Data), so it reports live objects as leaked; ASan's memory errors
# (out-of-bounds, use-after-free) are what this run is for. The float parser's 10^7-string corpus runs in make test, not
# here (its cost is glibc's strtod/printf, which the sanitizers slow tenfold; FastFloatTests' corner cases do run).
# Under --sanitize=thread, Swift 6.3's region-isolation check rejects swift-otel 1.6.0 (OTelBatchSpanProcessor.swift:151,
# "sending 'logger' risks causing data races") although the plain build accepts it: the sanitizer builds compile every
# module in Swift 5 language mode, where that diagnostic is a warning. The normal build (make test) keeps Swift 6's
# compile-time checks; these builds are for the runtime checks.
SANITIZE_SWIFT_MODE = -Xswiftc -swift-version -Xswiftc 5
sanitize: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan $(SANITIZE_SWIFT_MODE)
	OPENBLAS_NUM_THREADS=1 $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --parallel \
		--filter "DriftStatsTests|DriftStoreTests|DriftTriggersTests|DriftServerTests|DriftCommonTests|BlockReaderTests|JSONLinesPiecesTests" --skip FastFloatCorpusTests
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan $(SANITIZE_SWIFT_MODE)
	ASAN_OPTIONS=detect_leaks=0 $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan --parallel --filter "DriftCaptureTests|DriftCommonTests|CaptureFuzzTests" --skip FastFloatCorpusTests

bench: deps
	@scripts/install-deps.sh --bench
	# the benchmarks are a package of their own (Benchmarks/Package.swift) with its own build folder
	cd Benchmarks && $(SWIFT) build -c release --product drift-bench
	$(SWIFT) build -c release --product drift-worker
	Benchmarks/.build/release/drift-bench
	@scripts/bench-ingest.sh
	python3 Benchmarks/bench_e2e.py

# The end-to-end part of `make bench` alone: the drift-worker binary against pandas/polars + scipy on files on disk
# (Benchmarks/bench_e2e.py says what and how; BENCH_QUICK=1 skips the files of about 1 GB).
bench-e2e: deps
	@scripts/install-deps.sh --bench
	$(SWIFT) build -c release --product drift-worker
	python3 Benchmarks/bench_e2e.py

# Detection and false-alarm rates of the default drift rules (issue 19): Benchmarks/Detection/harness.py runs seeded
# synthetic scenarios with known truth through the release binary's `compare` (every regime, 30-100 trials; about 35
# minutes on 2 shared cores), prints the rates per scenario and rule and a PASS/FAIL list against the targets, and
# exits 1 when a target is missed. `make test` runs its --quick version on the debug binary. Extra options: DETECTION_ARGS
# (e.g. DETECTION_ARGS="--regimes 1000/500 --json detection.json").
DETECTION_ARGS ?=
detection: build
	@scripts/install-deps.sh --python
	python3 Benchmarks/Detection/harness.py --binary "$$($(SWIFT) build -c release --show-bin-path)/drift-worker" $(DETECTION_ARGS)

# The README's report screenshot: the sample data's drifted window rendered in headless Chromium (docs/report.png).
report-screenshot: build
	@scripts/report-screenshot.sh

# Regenerate golden fixtures and sample data (needs numpy and scipy; Evidently fixtures need a venv, see Tests/DriftStatsTests/Fixtures).
fixtures:
	python3 Tests/DriftStatsTests/Fixtures/generate_fixtures.py
	python3 Tests/DriftStatsTests/Fixtures/generate_highdim_fixtures.py

# Realized-performance (scikit-learn) and CBPE (NannyML) goldens: pinned versions in a venv of their own
# (NannyML imports statsmodels without declaring it).
fixtures-performance:
	python3 -m venv /tmp/drift-venv-performance
	/tmp/drift-venv-performance/bin/pip install -q "nannyml==0.13.1" "scikit-learn==1.7.*" "numpy==2.*" "scipy==1.17.*" statsmodels
	/tmp/drift-venv-performance/bin/python Tests/DriftStatsTests/Fixtures/generate_performance_fixtures.py
	/tmp/drift-venv-performance/bin/python Tests/DriftStatsTests/Fixtures/generate_cbpe_fixtures.py

sample-data:
	python3 sample-data/generate_fraud.py
	python3 sample-data/generate_traffic.py
	python3 sample-data/generate_labels.py
	python3 sample-data/capture/generate_capture.py
	cd sample-data && python3 generate_shadow.py
	python3 sample-data/embeddings/generate_embeddings.py

clean:
	rm -rf .build
