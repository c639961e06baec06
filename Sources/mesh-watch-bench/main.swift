// mesh-watch-bench: 1,000 concurrent `Mesh/Watch` streams over the wire on one control plane receive a burst of
// 10,000 events. Print-only; see docs/mesh.md.
//
// One process: a Platform (role control plane) listening on loopback, N RPCClient connections (each its own
// HTTP/2 connection and event-loop thread) carrying the Watch streams, one publisher. Every event is a
// HEALTH_CHANGED of a synthetic worker (toggling SERVING / NOT_SERVING, so each takes a revision and none
// coalesces) whose `reason` carries the publish time (CLOCK_MONOTONIC, ns); a subscriber's latency is receipt
// (after decoding) minus that stamp. The resident memory printed is the whole process's (server and clients).
import AIMassAPI
import AIMassServer
import Dispatch
import Foundation
import MeshCore
import RPCCore
import RPCHTTP2
import Synchronization

func say(_ line: String) {
    FileHandle.standardOutput.write((line + "\n").data(using: .utf8) ?? Data())
}
let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return Int(arguments[index + 1]) ?? fallback
}
let subscriberCount = option("--subscribers", 1_000)
let eventCount = option("--events", 10_000)
let connectionCount = option("--connections", 8)
let bufferLimit = option("--buffer", 1_000)
let syntheticWorkers = option("--workers", 10)
let resumeOnTooSlow = !arguments.contains("--no-resume")

func nowNs() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// `VmRSS` / `VmHWM` of this process in MiB.
func memory(_ key: String) -> String {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return "?" }
    for line in status.split(separator: "\n") where line.hasPrefix(key + ":") {
        let kb = Double(line.split(separator: " ").dropFirst().first { !$0.isEmpty }.flatMap { Double($0) } ?? 0)
        return String(format: "%.1f MiB", kb / 1024)
    }
    return "?"
}

/// Log-linear histogram of microseconds: 16 sub-buckets per power of two (~6 % resolution).
struct Histogram {
    var buckets = [UInt32](repeating: 0, count: 16 + 40 * 16)
    var count = 0

    static func index(_ us: UInt64) -> Int {
        if us < 16 { return Int(us) }
        let exponent = 63 - us.leadingZeroBitCount  // >= 4
        let sub = Int((us >> UInt64(exponent - 4)) & 15)
        return min(16 + (exponent - 4) * 16 + sub, 16 + 40 * 16 - 1)
    }

    static func lowerBound(_ index: Int) -> UInt64 {
        if index < 16 { return UInt64(index) }
        let exponent = (index - 16) / 16 + 4
        let sub = UInt64((index - 16) % 16)
        return (16 + sub) << UInt64(exponent - 4)
    }

    mutating func record(_ us: UInt64) {
        buckets[Self.index(us)] += 1
        count += 1
    }

    mutating func merge(_ other: Histogram) {
        for i in buckets.indices { buckets[i] += other.buckets[i] }
        count += other.count
    }

    func percentile(_ p: Double) -> String {
        guard count > 0 else { return "-" }
        let target = Int((Double(count) * p).rounded(.up))
        var seen = 0
        for (i, n) in buckets.enumerated() {
            seen += Int(n)
            if seen >= target { return String(format: "%.3f ms", Double(Self.lowerBound(i)) / 1000) }
        }
        return "-"
    }

    var maxValue: String {
        guard let last = buckets.lastIndex(where: { $0 > 0 }) else { return "-" }
        return String(format: "%.3f ms", Double(Self.lowerBound(last)) / 1000)
    }
}

/// Shared results.
final class Results: Sendable {
    struct State {
        var histogram = Histogram()
        var delivered = 0
        var snapshots = 0
        var finished = 0
        var tooSlow = 0
        var resumed = 0
        var resets = 0
        var otherErrors: [String: Int] = [:]
        var complete = 0
    }
    let state = Mutex(State())
}

let directory = NSTemporaryDirectory() + "mesh-watch-bench-\(UUID().uuidString)"
defer { try? FileManager.default.removeItem(atPath: directory) }
say("mesh-watch-bench: \(subscriberCount) Watch streams over \(connectionCount) connections, burst of \(eventCount) "
    + "HEALTH_CHANGED events, hub buffer \(bufferLimit), "
    + (resumeOnTooSlow ? "a stream ended as too slow resumes" : "no resume"))
say("rss at start: \(memory("VmRSS"))")
let platform = try await Platform.start(
    configuration: .init(
        port: 0, dataDirectory: directory, role: .controlPlane,
        mesh: .defaults { $0.bufferLimit = bufferLimit }))
let token = try String(contentsOfFile: platform.registry.adminTokenPath, encoding: .utf8)
    .trimmingCharacters(in: .whitespacesAndNewlines)
let port = platform.address.port ?? 0
for w in 0..<syntheticWorkers {
    try platform.mesh.publish(
        .workerJoined(MeshCore.Worker(id: "w\(w)", address: "127.0.0.1:\(20_000 + w)", health: .serving)))
}
let baseRevision = platform.mesh.revision
let lastRevision = baseRevision + UInt64(eventCount)
say("rss with the control plane started: \(memory("VmRSS"))")

let clients = (0..<connectionCount).map { _ in RPCClient(host: "127.0.0.1", port: port) }
let results = Results()
var options = CallOptions()
options.metadata.add("Bearer \(token)", forKey: "authorization")
let callOptions = options
let watch = MeshMethods.watch

let subscribers = Task {
    await withTaskGroup(of: Void.self) { group in
        for s in 0..<subscriberCount {
            let client = clients[s % connectionCount]
            group.addTask {
                var local = Histogram()
                var delivered = 0
                var reachedEnd = false
                var resumeFrom: UInt64 = 0
                // A stream ended as too slow (RESOURCE_EXHAUSTED) resumes from the last revision it received, as
                // MeshWatcher does; the replay comes from the hub's log.
                attempts: while true {
                    do {
                        let call: ClientCall<WatchRequest, AIMassAPI.MeshEvent> = try await client.serverStreaming(
                            watch, request: WatchRequest(resumeFromRevision: resumeFrom, heartbeatIntervalMs: 60_000),
                            options: callOptions)
                        while let event = try await call.next() {
                            if case .healthChanged(let change)? = event.payload, let stamp = UInt64(change.reason) {
                                let received = nowNs()
                                local.record(received > stamp ? (received - stamp) / 1000 : 0)
                                delivered += 1
                                resumeFrom = event.revision
                                if event.revision >= lastRevision {
                                    reachedEnd = true
                                    break
                                }
                            } else if event.kind == .snapshot {
                                resumeFrom = event.revision
                                if case .snapshot(let snapshot)? = event.payload, snapshot.reset {
                                    results.state.withLock { $0.resets += 1 }
                                } else {
                                    results.state.withLock { $0.snapshots += 1 }
                                }
                            }
                        }
                        call.cancel()
                        break attempts
                    } catch {
                        let rpc = RPCError(mapping: error)
                        let retry = rpc.code == .resourceExhausted && resumeOnTooSlow
                        results.state.withLock {
                            if rpc.code == .resourceExhausted {
                                $0.tooSlow += 1
                                if retry { $0.resumed += 1 }
                            } else {
                                $0.otherErrors["\(rpc.code)", default: 0] += 1
                            }
                        }
                        if !retry { break attempts }
                    }
                }
                let done = reachedEnd
                let (histogram, count) = (local, delivered)
                results.state.withLock {
                    $0.histogram.merge(histogram)
                    $0.delivered += count
                    $0.finished += 1
                    if done { $0.complete += 1 }
                }
            }
        }
    }
}

// Wait until every stream has its snapshot (bounded).
let openStarted = ContinuousClock.now
while results.state.withLock({ $0.snapshots + $0.finished }) < subscriberCount {
    if ContinuousClock.now - openStarted > .seconds(60) {
        say("only \(results.state.withLock { $0.snapshots }) streams got their snapshot within 60 s")
        break
    }
    try await Task.sleep(for: .milliseconds(10))
}
let opened = ContinuousClock.now - openStarted
say("streams open (snapshot received): \(results.state.withLock { $0.snapshots }) after \(opened); hub subscribers "
    + "\(platform.mesh.subscriberCount)")
say("rss with \(subscriberCount) streams: \(memory("VmRSS"))")

// The burst: back to back from one task.
let publishStarted = ContinuousClock.now
for i in 0..<eventCount {
    let worker = "w\(i % syntheticWorkers)"
    let round = i / syntheticWorkers
    let health: MeshCore.HealthStatus = round % 2 == 0 ? .notServing : .serving
    try platform.mesh.publish(
        .healthChanged(MeshCore.HealthChanged(workerId: worker, health: health, reason: String(nowNs()))))
}
let publishTook = ContinuousClock.now - publishStarted
say("publish burst: \(publishTook) for \(eventCount) events; hub revision \(platform.mesh.revision) (expected \(lastRevision))")
say("rss right after the burst: \(memory("VmRSS"))")

let waitStarted = ContinuousClock.now
while results.state.withLock({ $0.finished }) < subscriberCount {
    if ContinuousClock.now - waitStarted > .seconds(120) {
        say("gave up waiting after 120 s")
        break
    }
    try await Task.sleep(for: .milliseconds(5))
}
let allDone = ContinuousClock.now - publishStarted
let final = results.state.withLock { $0 }
say("all streams done \(allDone) after the burst started; streams that received the last event: \(final.complete)")
say("events delivered: \(final.delivered) of \(subscriberCount * eventCount); subscribers ended as too slow "
    + "(RESOURCE_EXHAUSTED): \(final.tooSlow), resumed: \(final.resumed), reset snapshots: \(final.resets); "
    + "other errors: \(final.otherErrors)")
say("delivery latency (publish -> receipt) p50 \(final.histogram.percentile(0.5)), p90 \(final.histogram.percentile(0.9)), "
    + "p99 \(final.histogram.percentile(0.99)), max bucket \(final.histogram.maxValue)")
say("rss at end: \(memory("VmRSS")); peak (VmHWM): \(memory("VmHWM"))")
subscribers.cancel()
for client in clients { await client.close() }
await platform.shutdown(gracePeriod: .milliseconds(200))
