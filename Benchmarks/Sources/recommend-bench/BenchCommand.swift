import ArgumentParser
import BenchmarkSupport
import Foundation
import RecommendCore

/// Index build time, in-process top-10 latency, resident memory and index size.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Index build time, in-process top-10 latency, resident memory, index size.")

    @Option(help: "The interactions file (or --synthetic).") var data: String?
    @Flag(help: "A synthetic data set instead of --data.") var synthetic = false
    @Option(help: "Top-10 queries timed.") var queries = 2000
    @OptionGroup var syntheticOptions: SyntheticOptions
    @OptionGroup var manifestOptions: ManifestOptions

    func validate() throws {
        guard synthetic || data != nil else { throw ValidationError("give --data FILE or --synthetic") }
    }

    func run() throws {
        let manifest = try manifestOptions.parsed()
        let table: InteractionTable
        let loadSeconds: Double
        if synthetic {
            let spec = syntheticOptions.spec
            print("generating \(spec)")
            (table, loadSeconds) = timed { spec.table() }
        } else {
            let data = self.data ?? ""
            (table, loadSeconds) = try timed { try loadTable(data) }
        }
        print("data: \(table.userIds.count) users, \(table.itemIds.count) items, \(table.count) interactions")
        print(String(format: "load: %.3f s", loadSeconds))
        print("manifest: \(manifest.description.split(separator: "\n").joined(separator: ", "))")
        let cpuBefore = cpuSeconds()
        let attributes = try manifestOptions.attributes()
        let (model, buildSeconds) = try timed {
            try Recommender(
                interactions: table, manifest: manifest, userAttributes: attributes.users, itemAttributes: attributes.items
            )
        }
        let buildCPU = cpuSeconds() - cpuBefore
        let statistics = model.statistics
        print(String(format: "index build: %.3f s (CPU %.3f s, %.2f cores busy)", buildSeconds, buildCPU, buildCPU / max(buildSeconds, 1e-9)))
        print("index: \(statistics.neighbourEntries) neighbour entries, raw size \(megabytes(statistics.indexBytes))")

        var state: UInt64 = 7
        var latencies = LatencyHistogram()
        var checksum = 0.0
        for _ in 0..<queries {
            state = SplitHash.splitmix64(state)
            let user = model.userIds[Int(state % UInt64(model.userIds.count))]
            let (list, seconds) = try timed { try model.recommend(user: user, k: 10) }
            latencies.record(seconds: seconds)
            checksum += list.first?.score ?? 0
        }
        if latencies.count > 0 {
            let median = latencies.seconds(atPercentile: 0.5)
            let p99 = latencies.seconds(atPercentile: 0.99)
            print(String(format: "top-10 latency over %d users: median %.1f µs, p99 %.1f µs", queries, median * 1e6, p99 * 1e6))
        }
        print("resident memory (VmRSS): \(ResidentMemory.resident)")
        print(String(format: "checksum: %.6f", checksum))
    }
}
