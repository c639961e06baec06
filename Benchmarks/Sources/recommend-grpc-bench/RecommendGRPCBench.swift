import AIMassAPI
import AIMassServer
import ArgumentParser
import BenchmarkSupport
import Foundation
import RPCCore
import RPCHTTP2

/// Top-10 latency over gRPC: an embedded platform on a temporary data directory, an interactions
/// file uploaded as a model, then sequential `Recommend` calls for pseudo-random users through our
/// client on loopback. Prints median and p99 (µs) and the machine's load. Compare builds by running two binaries
/// interleaved (A, B, A, B; docs/benchmarks.md). Usage:
///
///     recommend-grpc-bench DATA_FILE [--calls N] [--algorithm itemcf|usercf] [--neighbours K]
@main
struct RecommendGRPCBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend-grpc-bench", abstract: "Top-10 latency over gRPC against an embedded platform.")

    @Argument(help: "The interactions file uploaded as the model.") var dataFile: String
    @Option(help: "Sequential calls measured.") var calls = 2000
    @Option(help: "itemcf or usercf.") var algorithm = "itemcf"
    @Option(help: "The manifest's neighbours (K).") var neighbours = "20"

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("aimass-grpc-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let platform = try await Platform.start(configuration: .init(port: 0, dataDirectory: directory.path))
        let token = try String(contentsOfFile: platform.registry.adminTokenPath, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dataFile)))
        try uploadModel(
            "bench",
            bytes: bytes,
            manifest: ["algorithm": algorithm, "neighbours": neighbours],
            registry: platform.registry,
            token: token
        )
        let users = Self.users(in: bytes)
        let client = RPCClient(host: "127.0.0.1", port: platform.address.port ?? 0)
        var options = CallOptions(timeout: .seconds(30))
        options.metadata.add("Bearer \(token)", forKey: "authorization")
        let method = RecommendMethods.recommend
        // The first call loads the model (index build); it is reported apart.
        let loadStart = ContinuousClock.now
        let _: RecommendResponse = try await client.unary(method, request: RecommendRequest(model: "bench", userId: users[0], k: 10), options: options)
        let load = ContinuousClock.now - loadStart
        var generator = SystemRandomNumberGenerator()
        var latencies = LatencyHistogram()
        for _ in 0..<calls {
            let user = users[Int.random(in: 0..<users.count, using: &generator)]
            let start = ContinuousClock.now
            let _: RecommendResponse = try await client.unary(
                method,
                request: RecommendRequest(model: "bench", userId: user, k: 10, excludeSeen: true),
                options: options
            )
            latencies.record(ContinuousClock.now - start)
        }
        let median = Double(latencies.nanoseconds(atPercentile: 0.5)) / 1000
        let p99 = Double(latencies.nanoseconds(atPercentile: 0.99)) / 1000
        print("file \(dataFile): \(users.count) users, \(algorithm) K \(neighbours)")
        // The machine's load, so a figure carries its conditions (these machines are shared).
        let loadAverage = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load \(loadAverage?.joined(separator: " ") ?? "unknown")")
        print("first call (load + index build): \(load)")
        print(String(format: "top-10 over gRPC, %d sequential calls: median %.1f us, p99 %.1f us", calls, median, p99))
        await client.close()
        await platform.shutdown(gracePeriod: .seconds(1))
    }

    /// The distinct user ids of an interactions file (first column; a header line is skipped).
    static func users(in bytes: [UInt8]) -> [String] {
        var seen = Set<String>()
        var users: [String] = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n").dropFirst() {
            guard let field = line.split(whereSeparator: { $0 == "\t" || $0 == "," || $0 == " " }).first else { continue }
            let user = String(field)
            if seen.insert(user).inserted { users.append(user) }
        }
        return users
    }
}
