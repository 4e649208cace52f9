# syntax=docker/dockerfile:1
# drift-worker's container image: `make image` builds it (podman, buildah or docker) and runs `drift-worker version`
# in it. Two stages: the official Swift 6 image compiles a release binary with the Swift runtime linked in
# (--static-swift-stdlib), and a slim Debian 12 runs it with only the C libraries it links. The runtime stage's
# package list below is also what scripts/check-runtime-libs.sh (run by `make test`) compares the binary's `ldd`
# against, so keep it one `apt-get install` line in the `runtime` stage. Base images can be pointed at a mirror:
#   --build-arg SWIFT_IMAGE=<mirror>/swift:6.3.1-bookworm --build-arg RUNTIME_IMAGE=<mirror>/debian:bookworm-slim
ARG SWIFT_IMAGE=docker.io/library/swift:6.3.1-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
# the -dev packages of the C wrapper targets (Sources/CLibPQ, COpenBLAS, CCurl; scripts/install-deps.sh)
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        pkg-config libpq-dev libopenblas-dev liblapacke-dev libcurl4-openssl-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# dependencies first, so a source change does not fetch them again
COPY Package.swift Package.resolved ./
RUN swift package resolve
# SwiftPM loads every target of the manifest, the test targets too: their folders must be there
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product drift-worker \
    && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --product drift-worker --show-bin-path)/drift-worker" \
        /out/usr/local/bin/drift-worker

FROM ${RUNTIME_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="drift-worker" \
      org.opencontainers.image.description="Captures ML inference traffic, measures drift per window, fires retraining triggers" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="debian:bookworm-slim"
# Only the shared libraries the binary links (libpq, OpenBLAS with its LAPACK, LAPACKE, libcurl), the CA
# certificates libcurl and libpq verify TLS with, and the time zone database. libc6, libgcc-s1, libstdc++6 and
# zlib1g come with the base image (scripts/check-runtime-libs.sh lists them as such).
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libpq5 libopenblas0-pthread liblapacke libcurl4 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /
# OpenBLAS starts one thread per CPU of the node (it does not read the cgroup's CPU quota), so a pod limited to
# 2 CPUs on a 64-core node would run 64 threads and be throttled. One thread is safe under any limit; the manifests
# set it to the container's CPU limit (env valueFrom resourceFieldRef limits.cpu, divisor 1).
ENV OPENBLAS_NUM_THREADS=1
# the distroless "nonroot" identity the manifests run as (runAsUser/runAsGroup 65532)
USER 65532:65532
WORKDIR /tmp
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/drift-worker"]
CMD ["--help"]
