// swift-tools-version:6.1
//
// AI Mass benchmarks and fuzz targets: a package of their own (as swift-nio's Benchmarks/ is), depending on the
// product's package by path, so that nothing under the product's Sources/ is a benchmark. One executable per
// benchmark; what they share (latency percentiles on HdrHistogram, resident memory) is in BenchmarkSupport.
//
//   swift build --package-path Benchmarks [--product overload-bench]
//   scripts/fuzz.sh builds fuzz-deframer from here with `-sanitize=fuzzer,address -DFUZZING` in .build-fuzz.
import PackageDescription

let defaultSwiftSettings: [SwiftSetting] = [
    // https://github.com/swiftlang/swift-evolution/blob/main/proposals/0335-existential-any.md
    .enableUpcomingFeature("ExistentialAny")
]

let dependencies: [Package.Dependency] = [
    .package(name: "aimass", path: "../"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
]

/// A library product of the main package.
func aimass(_ name: String) -> Target.Dependency { .product(name: name, package: "aimass") }
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let targets: [Target] = [
    .target(
        name: "BenchmarkSupport",
        dependencies: [.product(name: "Histogram", package: "hdrhistogram-swift")],
        swiftSettings: defaultSwiftSettings
    ),

    // MARK: Fuzzing
    // libFuzzer targets: scripts/fuzz.sh builds them with `-sanitize=fuzzer,address -DFUZZING` in .build-fuzz; a
    // plain build makes each a corpus replayer (FuzzDriver). They depend on nothing but the product's modules, so
    // the sanitized build compiles no more than it fuzzes.
    .target(name: "FuzzDriver", swiftSettings: defaultSwiftSettings),
    // MessageDeframer + protobuf-c decoding of the interop and health messages.
    .executableTarget(
        name: "fuzz-deframer",
        dependencies: ["FuzzDriver", aimass("RPCCore"), aimass("RPCHTTP2"), aimass("AIMassInterop"), aimass("RPCHealth")],
        swiftSettings: defaultSwiftSettings
    ),
    // The aimass.v1 requests that arrive from the network: Join, UploadVersion, Watch, Recommend.
    .executableTarget(
        name: "fuzz-messages",
        dependencies: ["FuzzDriver", aimass("RPCCore"), aimass("AIMassAPI")],
        swiftSettings: defaultSwiftSettings
    ),
    // The server's header path: HPACK decoding in nghttp2, then the request-header handling of RPCHTTP2.
    .executableTarget(
        name: "fuzz-headers",
        dependencies: [
            "FuzzDriver", aimass("RPCCore"), aimass("RPCHTTP2"), .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ],
        swiftSettings: defaultSwiftSettings
    ),

    // MARK: Mesh
    .executableTarget(
        name: "mesh-bench",
        dependencies: ["BenchmarkSupport", argumentParser, aimass("MeshCore"), aimass("SchedulerCore")],
        swiftSettings: defaultSwiftSettings
    ),
    .executableTarget(
        name: "mesh-watch-bench",
        dependencies: [
            "BenchmarkSupport", argumentParser, aimass("AIMassServer"), aimass("MeshCore"), aimass("RPCHTTP2"),
            aimass("AIMassAPI"), aimass("RPCCore"), aimass("SchedulerCore"),
        ],
        swiftSettings: defaultSwiftSettings
    ),
    .executableTarget(
        name: "mesh-balancer-bench",
        dependencies: [
            "BenchmarkSupport", argumentParser, aimass("AIMassClient"), aimass("AIMassServer"), aimass("MeshCore"),
            aimass("RPCHTTP2"), aimass("AIMassAPI"), aimass("RPCCore"), aimass("SchedulerCore"),
        ],
        swiftSettings: defaultSwiftSettings
    ),

    // MARK: Feedback
    .executableTarget(
        name: "feedback-bench",
        dependencies: [argumentParser, aimass("AIMassAPI"), aimass("RPCCore"), aimass("RPCHTTP2")],
        swiftSettings: defaultSwiftSettings
    ),

    // MARK: Recommend
    .executableTarget(
        name: "recommend-bench",
        dependencies: ["BenchmarkSupport", argumentParser, aimass("RecommendCore")],
        swiftSettings: defaultSwiftSettings
    ),
    .executableTarget(
        name: "recommend-grpc-bench",
        dependencies: [
            "BenchmarkSupport", argumentParser, aimass("AIMassServer"), aimass("AIMassAPI"), aimass("ModelRegistry"),
            aimass("RPCCore"), aimass("RPCHTTP2"),
        ],
        swiftSettings: defaultSwiftSettings
    ),

    // MARK: Scheduler
    .executableTarget(
        name: "overload-bench",
        dependencies: [
            "BenchmarkSupport", argumentParser, aimass("AIMassServices"), aimass("AIMassAPI"), aimass("RPCCore"),
            aimass("RPCHTTP2"), aimass("RecommendCore"), aimass("SchedulerCore"),
        ],
        swiftSettings: defaultSwiftSettings
    ),
]

let package = Package(
    name: "aimass-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: dependencies,
    targets: targets
)
