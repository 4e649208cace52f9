// swift-tools-version:6.0
// The benchmarks (`make bench`): a package of their own, so the product's manifest builds only what ships. It uses the
// product's libraries from the package one folder up.
import PackageDescription

let package = Package(
    name: "drift-bench",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "drift-worker", path: "..")],
    targets: [
        .executableTarget(
            name: "drift-bench",
            dependencies: [
                .product(name: "DriftCore", package: "drift-worker"),
                .product(name: "DriftStats", package: "drift-worker"),
                .product(name: "DriftStore", package: "drift-worker"),
                .product(name: "DriftCapture", package: "drift-worker"),
                .product(name: "DriftCommon", package: "drift-worker"),
                .product(name: "DriftLocalPostgres", package: "drift-worker")
            ],
            path: "drift-bench")
    ]
)
