// mesh-bench: N subscribers on one MeshHub receive a burst of M state events; prints delivery latency
// (publish → subscriber receipt) percentiles and the process's memory.
//
//   mesh-bench [--subscribers 1000] [--events 10000] [--buffer 10000] [--batch 256]
import Foundation
import MeshCore
import Synchronization

func option(_ name: String, default value: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count,
        let parsed = Int(arguments[index + 1]), parsed > 0
    else { return value }
    return parsed
}

func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// `VmRSS` / `VmHWM` of this process in MiB, from /proc/self/status.
func memory(_ field: String) -> String {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "?" }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        let kilobytes = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return String(format: "%.1f MiB", Double(kilobytes) / 1024)
    }
    return "?"
}

/// Log-linear latency histogram: 16 sub-buckets per power of two (about 6 % resolution).
struct Histogram {
    var counts = [UInt32](repeating: 0, count: 64 * 16)

    static func bucket(_ nanos: UInt64) -> Int {
        guard nanos >= 16 else { return Int(nanos) }
        let exponent = 63 - nanos.leadingZeroBitCount
        let mantissa = Int((nanos >> UInt64(exponent - 4)) & 15)
        return (exponent - 3) * 16 + mantissa
    }

    static func lowerBound(_ bucket: Int) -> UInt64 {
        guard bucket >= 16 else { return UInt64(bucket) }
        let exponent = bucket / 16 + 3
        return (16 + UInt64(bucket % 16)) << UInt64(exponent - 4)
    }

    mutating func record(_ nanos: UInt64) { self.counts[Self.bucket(nanos)] += 1 }

    mutating func merge(_ other: Histogram) {
        for index in self.counts.indices { self.counts[index] += other.counts[index] }
    }

    func percentile(_ p: Double) -> UInt64 {
        let total = self.counts.reduce(0) { $0 + Int($1) }
        let target = Int((Double(total) * p).rounded(.up))
        var seen = 0
        for (index, count) in self.counts.enumerated() {
            seen += Int(count)
            if seen >= max(1, target) { return Self.lowerBound(index) }
        }
        return 0
    }
}

/// Publish instants by revision, written before each publish (the hub's locks order them before any receipt).
final class PublishTimes: @unchecked Sendable {
    let nanos: UnsafeMutableBufferPointer<UInt64>
    init(count: Int) { self.nanos = .allocate(capacity: count + 2) }
}

func ms(_ nanos: UInt64) -> String { String(format: "%.3f ms", Double(nanos) / 1e6) }

let subscriberCount = option("subscribers", default: 1_000)
let eventCount = option("events", default: 10_000)
let bufferLimit = option("buffer", default: 10_000)
let batchLimit = option("batch", default: 256)
print("mesh-bench: \(subscriberCount) subscribers, burst of \(eventCount) events, buffer \(bufferLimit), batch \(batchLimit)")
print("rss at start: \(memory("VmRSS"))")

let hub = MeshHub(
    configuration: MeshHub.Configuration(
        logCapacity: 10_000, bufferLimit: bufferLimit, heartbeatInterval: nil, batchLimit: batchLimit))
try hub.publish(.workerJoined(Worker(id: "w1", address: "w1:7000", health: .serving)))
let times = PublishTimes(count: eventCount)
let ready = Atomic<Int>(0)
let subscriptions = (0..<subscriberCount).map { _ in hub.subscribe() }
print("rss with \(subscriberCount) subscribers: \(memory("VmRSS"))")

let (histogram, ended, burstNanos, drainNanos, rssAfter) = try await withThrowingTaskGroup(
    of: (Histogram, Bool).self
) { group in
    for subscription in subscriptions {
        group.addTask {
            var histogram = Histogram()
            do {
                for try await event in subscription {
                    let now = monotonicNanos()
                    if event.kind == .snapshot {
                        ready.add(1, ordering: .relaxed)
                        continue
                    }
                    histogram.record(now - times.nanos[Int(event.revision)])
                    if event.revision == UInt64(eventCount + 1) { break }
                }
            } catch {
                return (histogram, true)
            }
            return (histogram, false)
        }
    }
    while ready.load(ordering: .relaxed) < subscriberCount { try await Task.sleep(for: .milliseconds(5)) }
    let start = monotonicNanos()
    for index in 0..<eventCount {
        let revision = index + 2
        times.nanos[revision] = monotonicNanos()
        try hub.publish(
            .replicaReady(
                Replica(id: "r1", deploymentId: "d1", model: "m", version: 1, workerId: "w1", state: .ready,
                    updatedAtMs: Int64(revision))))
    }
    let burst = monotonicNanos() - start
    let rss = memory("VmRSS")
    var merged = Histogram()
    var ended = 0
    for try await (histogram, wasEnded) in group {
        merged.merge(histogram)
        if wasEnded { ended += 1 }
    }
    return (merged, ended, burst, monotonicNanos() - start, rss)
}
let delivered = histogram.counts.reduce(0) { $0 + Int($1) }
print("publish burst: \(ms(burstNanos)) for \(eventCount) events (\(ms(burstNanos / UInt64(eventCount))) each)")
print("all delivered after: \(ms(drainNanos)); deliveries \(delivered); subscribers ended as too slow: \(ended)")
print("delivery latency p50 \(ms(histogram.percentile(0.50))), p99 \(ms(histogram.percentile(0.99))), max bucket \(ms(histogram.percentile(1.0)))")
print("rss right after the burst: \(rssAfter); rss at end: \(memory("VmRSS")); peak (VmHWM): \(memory("VmHWM"))")
