// mesh-bench: N subscribers on one MeshHub receive a burst of M state events; prints delivery latency
// (publish → subscriber receipt) percentiles and the process's memory.
//
//   mesh-bench [--subscribers 1000] [--events 10000] [--buffer 10000] [--batch 256]
import ArgumentParser
import BenchmarkSupport
import Foundation
import MeshCore
import SchedulerCore
import Synchronization

@main
struct MeshBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mesh-bench",
        abstract: "N subscribers on one MeshHub receive a burst of M state events: delivery latency and memory.")

    @Option(help: "Subscribers on the hub.") var subscribers = 1_000
    @Option(help: "Events in the burst.") var events = 10_000
    @Option(help: "The hub's per-subscriber buffer limit.") var buffer = 10_000
    @Option(help: "The hub's batch limit.") var batch = 256

    func validate() throws {
        guard subscribers > 0, events > 0, buffer > 0, batch > 0 else {
            throw ValidationError("--subscribers, --events, --buffer and --batch must be positive")
        }
    }

    func run() async throws {
        let (subscriberCount, eventCount, bufferLimit, batchLimit) = (subscribers, events, buffer, batch)
        print("mesh-bench: \(subscriberCount) subscribers, burst of \(eventCount) events, buffer \(bufferLimit), batch \(batchLimit)")
        print("rss at start: \(ResidentMemory.resident)")

        let hub = MeshHub(
            configuration: MeshHub.Configuration(
                logCapacity: 10_000, bufferLimit: bufferLimit, heartbeatInterval: nil, batchLimit: batchLimit))
        try hub.publish(.workerJoined(Worker(id: "w1", address: "w1:7000", health: .serving)))
        let times = PublishTimes(count: eventCount)
        let ready = ReadyCount()
        let subscriptions = (0..<subscriberCount).map { _ in hub.subscribe() }
        print("rss with \(subscriberCount) subscribers: \(ResidentMemory.resident)")

        let (histogram, ended, burstNanos, drainNanos, rssAfter) = try await withThrowingTaskGroup(
            of: (LatencyHistogram, Bool).self
        ) { group in
            for subscription in subscriptions {
                group.addTask {
                    var histogram = LatencyHistogram()
                    do {
                        for try await event in subscription {
                            let now = monotonicNanos()
                            if event.kind == .snapshot {
                                ready.value.add(1, ordering: .relaxed)
                                continue
                            }
                            histogram.record(nanoseconds: now - times.nanos[Int(event.revision)])
                            if event.revision == UInt64(eventCount + 1) { break }
                        }
                    } catch {
                        return (histogram, true)
                    }
                    return (histogram, false)
                }
            }
            while ready.value.load(ordering: .relaxed) < subscriberCount { try await Task.sleep(for: .milliseconds(5)) }
            let start = monotonicNanos()
            for index in 0..<eventCount {
                let revision = index + 2
                times.nanos[revision] = monotonicNanos()
                try hub.publish(
                    .replicaReady(
                        Replica(id: "r1", deploymentID: "d1", model: "m", version: 1, workerID: "w1", state: .ready,
                            updatedAt: Double(revision))))
            }
            let burst = monotonicNanos() - start
            let rss = ResidentMemory.resident
            var merged = LatencyHistogram()
            var ended = 0
            for try await (histogram, wasEnded) in group {
                merged.merge(histogram)
                if wasEnded { ended += 1 }
            }
            return (merged, ended, burst, monotonicNanos() - start, rss)
        }
        let delivered = histogram.count
        print("publish burst: \(ms(burstNanos)) for \(eventCount) events (\(ms(burstNanos / UInt64(eventCount))) each)")
        print("all delivered after: \(ms(drainNanos)); deliveries \(delivered); subscribers ended as too slow: \(ended)")
        print(
            "delivery latency p50 \(histogram.formatted(atPercentile: 0.50)), p99 \(histogram.formatted(atPercentile: 0.99)), "
                + "max \(histogram.formattedMax)")
        print("rss right after the burst: \(rssAfter); rss at end: \(ResidentMemory.resident); peak (VmHWM): \(ResidentMemory.peak)")
    }
}

func monotonicNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}

/// Subscribers that have their snapshot (a class, so that subscriber tasks can share the atomic).
final class ReadyCount: Sendable {
    let value = Atomic<Int>(0)
}

/// Publish instants by revision, written before each publish (the hub's locks order them before any receipt).
final class PublishTimes: @unchecked Sendable {
    let nanos: UnsafeMutableBufferPointer<UInt64>
    init(count: Int) { self.nanos = .allocate(capacity: count + 2) }
}

func ms(_ nanos: UInt64) -> String { String(format: "%.3f ms", Double(nanos) / 1e6) }

