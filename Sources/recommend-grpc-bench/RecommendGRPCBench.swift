import AIMassAPI
import AIMassServer
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
struct RecommendGRPCBench {
    static func main() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard !arguments.isEmpty else {
            print("usage: recommend-grpc-bench DATA_FILE [--calls N] [--algorithm itemcf|usercf] [--neighbours K]")
            exit(2)
        }
        let dataFile = arguments.removeFirst()
        var calls = 2000
        var algorithm = "itemcf"
        var neighbours = "20"
        while arguments.count >= 2 {
            let (flag, value) = (arguments.removeFirst(), arguments.removeFirst())
            switch flag {
            case "--calls": calls = Int(value) ?? calls
            case "--algorithm": algorithm = value
            case "--neighbours": neighbours = value
            default:
                print("unknown option \(flag)")
                exit(2)
            }
        }
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
        var samples: [Double] = []
        samples.reserveCapacity(calls)
        for _ in 0..<calls {
            let user = users[Int.random(in: 0..<users.count, using: &generator)]
            let start = ContinuousClock.now
            let _: RecommendResponse = try await client.unary(
                method,
                request: RecommendRequest(model: "bench", userId: user, k: 10, excludeSeen: true),
                options: options
            )
            let elapsed = ContinuousClock.now - start
            samples.append(Double(elapsed.components.attoseconds) / 1e12 + Double(elapsed.components.seconds) * 1e6)
        }
        samples.sort()
        let median = samples[samples.count / 2]
        let p99 = samples[min(samples.count - 1, samples.count * 99 / 100)]
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
