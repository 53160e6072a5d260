// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "ca",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ca", targets: ["ca"]),
        .library(name: "AgentCore", targets: ["AgentCore"]),
        .library(name: "SandboxClient", targets: ["SandboxClient"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .target(
            name: "SandboxClient",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .target(
            name: "AgentCore",
            dependencies: [
                "SandboxClient",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "ca",
            dependencies: [
                "AgentCore",
                "SandboxClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "CATestSupport",
            dependencies: [
                "SandboxClient",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/CATestSupport"
        ),
        .testTarget(
            name: "SandboxClientTests",
            dependencies: ["SandboxClient", "CATestSupport"]
        ),
        .testTarget(
            name: "AgentCoreTests",
            dependencies: ["AgentCore", "SandboxClient", "CATestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "CLITests",
            dependencies: ["AgentCore", "CATestSupport"]
        ),
        .executableTarget(
            name: "ca-fakes",
            dependencies: ["CATestSupport"],
            path: "Tests/FakeServices"
        ),
        .executableTarget(
            name: "ca-bench",
            dependencies: ["AgentCore", "SandboxClient", "CATestSupport"],
            path: "Benchmarks/CABench"
        ),
    ]
)
