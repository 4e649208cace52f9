#!/usr/bin/env bash
# Builds the container image from the Dockerfile with the first builder that works here — podman, buildah or a
# docker with a running engine — tags it $IMAGE, then runs `drift-worker version` in it. Fails with a sentence
# naming what is missing: no builder, or a base image it cannot pull (set SWIFT_IMAGE / RUNTIME_IMAGE to a mirror).
# podman/buildah build with --isolation chroot (no user namespaces or cgroups needed, so it works as root inside a
# container too) and take extra global flags from BUILDER_FLAGS, e.g. BUILDER_FLAGS="--storage-driver vfs" where
# overlay is unavailable (podman picks vfs by itself when it detects that).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:?set IMAGE, e.g. IMAGE=registry.example.com/drift-worker:0.1.0}
SWIFT_IMAGE=${SWIFT_IMAGE:-docker.io/library/swift:6.3.1-bookworm}
RUNTIME_IMAGE=${RUNTIME_IMAGE:-docker.io/library/debian:bookworm-slim}
VERSION=${IMAGE##*:}
REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)

fail() { echo "make image: $*" >&2; exit 1; }

builder=""
if command -v podman >/dev/null 2>&1; then builder=podman
elif command -v buildah >/dev/null 2>&1; then builder=buildah
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then builder=docker
fi
if [ -z "$builder" ]; then
    if command -v docker >/dev/null 2>&1; then
        fail "no container builder works here: docker is only a client (no engine answers: docker info fails) and neither podman nor buildah is installed (Debian: apt-get install podman buildah)"
    fi
    fail "no container builder found: install podman or buildah (Debian: apt-get install podman buildah) or Docker"
fi

flags=()
if [ "$builder" != docker ]; then
    # shellcheck disable=SC2206
    flags=(${BUILDER_FLAGS:-})
fi
build_args=(--build-arg "SWIFT_IMAGE=$SWIFT_IMAGE" --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE"
    --build-arg "VERSION=$VERSION" --build-arg "REVISION=$REVISION")

# The base images first (unless already stored locally), so an unreachable registry is named as such instead of
# failing deep in the build.
for base in "$SWIFT_IMAGE" "$RUNTIME_IMAGE"; do
    case $builder in
        podman) have=(podman "${flags[@]}" image exists "$base"); pull=(podman "${flags[@]}" pull "$base") ;;
        buildah) have=(buildah "${flags[@]}" inspect --type image "$base"); pull=(buildah "${flags[@]}" pull "$base") ;;
        docker) have=(docker image inspect "$base"); pull=(docker pull "$base") ;;
    esac
    "${have[@]}" >/dev/null 2>&1 && continue
    if ! out=$("${pull[@]}" 2>&1); then
        echo "$out" | tail -3 >&2
        fail "$builder cannot pull the base image $base (is its registry reachable from here?): set SWIFT_IMAGE / RUNTIME_IMAGE to a mirror you can reach"
    fi
done

echo "make image: building $IMAGE with $builder"
case $builder in
    podman) podman "${flags[@]}" build --isolation chroot --network host "${build_args[@]}" -t "$IMAGE" -f Dockerfile . ;;
    buildah) buildah "${flags[@]}" bud --isolation chroot --network host "${build_args[@]}" -t "$IMAGE" -f Dockerfile . ;;
    docker) docker build "${build_args[@]}" -t "$IMAGE" -f Dockerfile . ;;
esac

echo "make image: drift-worker version in $IMAGE"
case $builder in
    docker) docker run --rm "$IMAGE" version ;;
    *)
        # `podman run` needs an OCI runtime allowed to set rlimits and cgroups; `buildah run --isolation chroot`
        # needs neither, so it also works inside a sandbox. Both run the image's entrypoint as its user.
        if ! podman "${flags[@]}" run --rm "$IMAGE" version 2>/dev/null; then
            command -v buildah >/dev/null 2>&1 || fail "podman run failed and buildah (to run it in a chroot) is not installed"
            container=$(buildah "${flags[@]}" from "$IMAGE")
            trap 'buildah "${flags[@]}" rm "$container" >/dev/null' EXIT
            buildah "${flags[@]}" run --isolation chroot "$container" -- /usr/local/bin/drift-worker version
        fi
        ;;
esac
