# drift-worker — the README's commands. Each target first installs missing system packages.
SWIFT ?= swift

.PHONY: deps build demo test bench report-screenshot fixtures sample-data clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product drift-worker

demo: build
	@scripts/demo.sh

test: deps
	@scripts/validate-manifests.sh
	$(SWIFT) build --build-tests
	# One test at a time: many tests run real processes and HTTP servers whose async handlers need Swift's
	# cooperative threads (two on this machine), which CPU-bound suites running beside them would starve.
	$(SWIFT) test --skip-build --no-parallel

bench: deps
	@scripts/install-deps.sh --bench
	$(SWIFT) build -c release --product drift-bench
	$(SWIFT) build -c release --product drift-worker
	.build/release/drift-bench
	@scripts/bench-ingest.sh

# The README's report screenshot: the sample data's drifted window rendered in headless Chromium (docs/report.png).
report-screenshot: build
	@scripts/report-screenshot.sh

# Regenerate golden fixtures and sample data (needs numpy and scipy; Evidently fixtures need a venv, see Tests/DriftStatsTests/Fixtures).
fixtures:
	python3 Tests/DriftStatsTests/Fixtures/generate_fixtures.py
	python3 Tests/DriftStatsTests/Fixtures/generate_highdim_fixtures.py

sample-data:
	python3 sample-data/generate_fraud.py
	python3 sample-data/generate_traffic.py
	python3 sample-data/capture/generate_capture.py
	cd sample-data && python3 generate_shadow.py
	python3 sample-data/embeddings/generate_embeddings.py

clean:
	rm -rf .build
