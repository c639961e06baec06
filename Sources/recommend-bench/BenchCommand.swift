import Foundation
import RecommendCore

/// Index build time, in-process top-10 latency, resident memory and index size.
enum BenchCommand {
    static func run(_ arguments: inout Arguments) throws {
        let manifest = try arguments.manifest()
        let queries = try arguments.int("queries", default: 2000)
        let table: InteractionTable
        let loadSeconds: Double
        if arguments.flag("synthetic") {
            let spec = try SyntheticSpec(&arguments)
            print("generating \(spec)")
            (table, loadSeconds) = timed { spec.table() }
        } else {
            let data = try arguments.required("data")
            (table, loadSeconds) = try timed { try loadTable(data) }
        }
        print("data: \(table.userIds.count) users, \(table.itemIds.count) items, \(table.count) interactions")
        print(String(format: "load: %.3f s", loadSeconds))
        print("manifest: \(manifest.description.split(separator: "\n").joined(separator: ", "))")
        let cpuBefore = cpuSeconds()
        let (model, buildSeconds) = try timed { try Recommender(interactions: table, manifest: manifest) }
        let buildCPU = cpuSeconds() - cpuBefore
        let statistics = model.statistics
        print(String(format: "index build: %.3f s (CPU %.3f s, %.2f cores busy)", buildSeconds, buildCPU, buildCPU / max(buildSeconds, 1e-9)))
        print("index: \(statistics.neighbourEntries) neighbour entries, raw size \(megabytes(statistics.indexBytes))")

        var state: UInt64 = 7
        var latencies: [Double] = []
        var checksum = 0.0
        for _ in 0..<queries {
            state = SplitHash.splitmix64(state)
            let user = model.userIds[Int(state % UInt64(model.userIds.count))]
            let (list, seconds) = try timed { try model.recommend(user: user, k: 10) }
            latencies.append(seconds)
            checksum += list.first?.score ?? 0
        }
        latencies.sort()
        if !latencies.isEmpty {
            let median = latencies[latencies.count / 2]
            let p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
            print(String(format: "top-10 latency over %d users: median %.1f µs, p99 %.1f µs", queries, median * 1e6, p99 * 1e6))
        }
        if let rss = residentBytes() {
            print("resident memory (VmRSS): \(megabytes(rss))")
        }
        print(String(format: "checksum: %.6f", checksum))
    }
}
