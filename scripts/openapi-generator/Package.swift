// swift-tools-version: 6.2
// Builds only the pinned swift-openapi-generator command for scripts/generate-openapi.sh, in its
// own scratch folder (.build-openapi), so the main package never resolves or builds the generator.
import PackageDescription

let package = Package(
    name: "ca-openapi-generator",
    dependencies: [
        .package(url: "https://github.com/apple/swift-openapi-generator", exact: "1.14.3"),
    ],
    targets: []
)
