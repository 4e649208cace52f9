// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "drift-worker",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "drift-worker", targets: ["drift-worker"]),
        .library(name: "DriftStats", targets: ["DriftStats"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
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

        .target(name: "DriftStats", dependencies: ["COpenBLAS"]),
        .target(name: "DriftCapture"),
        .target(name: "DriftStore", dependencies: ["CLibPQ"]),
        .target(name: "DriftTriggers", dependencies: ["CCurl"]),
        .target(name: "DriftCore", dependencies: ["DriftStats", "DriftCapture", "DriftStore", "DriftTriggers", "Yams"]),
        .executableTarget(
            name: "drift-worker",
            dependencies: ["DriftCore", "DriftStore", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .executableTarget(
            name: "drift-bench", dependencies: ["DriftStats", "DriftStore", "DriftCore"], path: "Benchmarks/drift-bench"),

        .testTarget(name: "DriftStatsTests", dependencies: ["DriftStats"], exclude: ["Fixtures"]),
        .testTarget(name: "DriftCaptureTests", dependencies: ["DriftCapture"]),
        .testTarget(name: "DriftCoreTests", dependencies: ["DriftCore", "DriftStore", "DriftTestSupport", "drift-worker"]),
        .target(name: "DriftTestSupport", dependencies: ["DriftStore"], path: "Tests/DriftTestSupport"),
        .testTarget(name: "DriftStoreTests", dependencies: ["DriftStore", "DriftTestSupport"]),
        .testTarget(name: "SystemLibraryTests", dependencies: ["DriftStats", "DriftStore", "DriftTriggers"]),
    ]
)
