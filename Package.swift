// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "drift-worker",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "drift-worker", targets: ["drift-worker"]),
        .library(name: "DriftStats", targets: ["DriftStats"]),
        // for the benchmarks' package (Benchmarks/Package.swift)
        .library(name: "DriftCore", targets: ["DriftCore"]),
        .library(name: "DriftStore", targets: ["DriftStore"]),
        .library(name: "DriftCapture", targets: ["DriftCapture"]),
        .library(name: "DriftCommon", targets: ["DriftCommon"]),
        .library(name: "DriftLocalPostgres", targets: ["DriftLocalPostgres"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.5.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        // HTTPField / HTTPRequest types, which Hummingbird's API speaks (already in the graph through Hummingbird)
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        // Traces: the span API, and its OTLP exporter over HTTP only (the default traits add gRPC, too heavy for our CI)
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"])
    ],
    targets: [
        // C wrappers: the only targets that touch C headers.
        .systemLibrary(
            name: "CLibPQ", path: "Sources/CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),

        // Leaf: small value types every layer shares (backoff, constant-time compare, JSON values); no dependencies.
        .target(name: "DriftCommon"),
        .target(name: "DriftStats", dependencies: ["COpenBLAS", "DriftCommon"]),
        .target(
            name: "DriftCapture",
            dependencies: [
                "DriftCommon", .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf")
            ],
            exclude: ["Protobuf/v2_dataplane.proto"]),
        .target(
            name: "DriftStore",
            dependencies: [
                "CLibPQ", "DriftCommon",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio")
            ]),
        // Development only: a throwaway local PostgreSQL cluster for `local-postgres`, `demo` and the tests.
        .target(
            name: "DriftLocalPostgres",
            dependencies: [.product(name: "NIOConcurrencyHelpers", package: "swift-nio")]),
        .target(
            name: "DriftTriggers",
            dependencies: [
                "CCurl", "DriftCommon", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio")
            ]),
        .target(
            name: "DriftCore",
            dependencies: [
                "DriftStats", "DriftCapture", "DriftCommon", "DriftStore", "DriftTriggers", "Yams",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing")
            ]),
        .target(
            name: "DriftServer",
            dependencies: [
                "DriftCore", "DriftStore", "DriftTriggers", "DriftCapture", "DriftCommon",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel")
            ]),
        .executableTarget(
            name: "drift-worker",
            dependencies: [
                "DriftCore", "DriftStore", "DriftServer", "DriftCapture", "DriftCommon", "DriftStats", "DriftTriggers", "DriftLocalPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
            ]),

        .testTarget(name: "DriftStatsTests", dependencies: ["DriftStats", "DriftCommon"], exclude: ["Fixtures"]),
        .testTarget(name: "DriftCaptureTests", dependencies: ["DriftCapture", "DriftCommon", "DriftTestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "DriftCommonTests", dependencies: ["DriftCommon"]),
        // In-process tests (no child processes); Fuzz/corpus: hostile inputs the fuzz tests read by path
        .testTarget(
            name: "DriftCoreTests",
            dependencies: [
                "DriftCore", "DriftStore", "DriftServer", "DriftTestSupport", "DriftCapture", "DriftCommon", "DriftStats", "DriftTriggers",
                .product(name: "Hummingbird", package: "hummingbird")
            ],
            exclude: ["Fuzz/corpus"]),
        // End-to-end: the tests that run the drift-worker binary (`make test` runs them one at a time, after the rest)
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "drift-worker", "DriftCore", "DriftStore", "DriftServer", "DriftTestSupport", "DriftLocalPostgres", "DriftCapture",
                "DriftStats", "DriftTriggers"
            ]),
        .target(
            name: "DriftTestSupport",
            dependencies: [
                "DriftCore", "DriftStats", "DriftStore", "DriftServer", "DriftLocalPostgres",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
            ],
            path: "Tests/DriftTestSupport"),
        .testTarget(
            name: "DriftTriggersTests", dependencies: ["DriftTriggers", "DriftTestSupport", .product(name: "_CryptoExtras", package: "swift-crypto")]),
        .testTarget(name: "DriftStoreTests", dependencies: ["DriftStore", "DriftCommon", "DriftLocalPostgres", "DriftTestSupport"]),
        .testTarget(
            name: "DriftServerTests",
            dependencies: [
                "DriftServer", "DriftCommon", "DriftCore", "DriftStore", "DriftTestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "OTel", package: "swift-otel"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
            ]),
        .testTarget(name: "SystemLibraryTests", dependencies: ["DriftStats", "DriftStore", "DriftTriggers"])
    ]
)
