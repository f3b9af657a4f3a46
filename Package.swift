// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Sealant",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "sealant", targets: ["sealant"]),
        .library(name: "Detection", targets: ["Detection"]),
        .library(name: "Sealing", targets: ["Sealing"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
    ],
    targets: [
        // System-library shims: module.modulemap + shim.h, no logic.
        .systemLibrary(name: "CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CVectorscan", pkgConfig: "libhs", providers: [.apt(["libvectorscan-dev"])]),
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        .target(
            name: "Rules",
            dependencies: [.product(name: "TOMLKit", package: "TOMLKit")],
            plugins: ["EmbedPatterns"]
        ),
        .executableTarget(name: "embed-patterns", path: "Sources/embed-patterns"),
        .plugin(name: "EmbedPatterns", capability: .buildTool(), dependencies: ["embed-patterns"]),
        .target(name: "Detection", dependencies: ["Rules", "CVectorscan", "CPCRE2", "COpenSSL"]),
        .target(name: "GitHistory", dependencies: ["CGit2", "CZlib"]),
        .target(name: "Reporting", dependencies: ["Detection"]),
        .target(name: "Sealing", dependencies: ["COpenSSL", .product(name: "Yams", package: "Yams"),
                                               .product(name: "AsyncHTTPClient", package: "async-http-client")]),
        .target(
            name: "Controller",
            dependencies: [
                "Sealing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "sealant",
            dependencies: [
                "Rules", "Detection", "GitHistory", "Reporting", "Sealing", "Controller",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "RulesTests", dependencies: ["Rules", "Detection"]),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "Rules"]),
        .testTarget(name: "GitHistoryTests", dependencies: ["GitHistory"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting", "Detection"]),
        .testTarget(name: "SealingTests", dependencies: ["Sealing"]),
        .testTarget(
            name: "ControllerTests",
            dependencies: [
                "Controller", "Sealing",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // Read from the source tree at run time (#filePath), not bundled.
            exclude: ["Fixtures"]
        ),
        // End-to-end: runs the built binary (the dependency makes sure it is built first).
        .testTarget(name: "sealantTests", dependencies: ["sealant", .product(name: "Yams", package: "Yams")]),
    ],
    swiftLanguageModes: [.v6]
)
