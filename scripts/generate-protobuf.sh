#!/usr/bin/env bash
# Regenerates Sources/DriftCapture/Protobuf/v2_dataplane.pb.swift from v2_dataplane.proto (the Open Inference
# Protocol's gRPC schema, copied from SeldonIO/seldon-core; see the header of the .proto).
#
# The generated file is committed: the package has no build plugin, so building drift-worker needs neither
# protoc nor protoc-gen-swift. Run this only when the .proto changes.
#
# - protoc comes from PyPI: `pip install grpcio-tools` (python3 -m grpc_tools.protoc).
# - protoc-gen-swift is built from the swift-protobuf release that Package.swift resolves (1.39.0), in a
#   build folder under /tmp (never in this repository): from $SWIFT_PROTOBUF_REPO (the local mirror by default).
#
# Usage: scripts/generate-protobuf.sh            (from the repository root)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${SWIFT_PROTOBUF_VERSION:-1.39.0}"
REPO="${SWIFT_PROTOBUF_REPO:-/opt/swift-packages/apple/swift-protobuf.git}"
WORK="${SWIFT_PROTOBUF_WORK:-/tmp/swift-protobuf-$VERSION}"
OUT="$ROOT/Sources/DriftCapture/Protobuf"

python3 -c 'import grpc_tools' 2>/dev/null || python3 -m pip install --quiet grpcio-tools

PLUGIN="$WORK/.build/release/protoc-gen-swift"
if [ ! -x "$PLUGIN" ]; then
    [ -d "$WORK" ] || git clone --quiet --depth 1 --branch "$VERSION" "$REPO" "$WORK"
    (cd "$WORK" && swift build -c release --product protoc-gen-swift)
fi

# Visibility=Internal: the generated types stay inside DriftCapture; OIPProtobuf.swift is the public face.
python3 -m grpc_tools.protoc \
    --plugin=protoc-gen-swift="$PLUGIN" \
    --proto_path="$OUT" \
    --swift_opt=Visibility=Internal \
    --swift_out="$OUT" \
    "$OUT/v2_dataplane.proto"

echo "generated $OUT/v2_dataplane.pb.swift with protoc-gen-swift $("$PLUGIN" --version 2>/dev/null || echo "$VERSION")"
