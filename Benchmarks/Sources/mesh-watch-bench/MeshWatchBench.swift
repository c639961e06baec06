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
import ArgumentParser
import BenchmarkSupport
import Dispatch
import Foundation
import MeshCore
import RPCCore
import RPCHTTP2
import SchedulerCore
import Synchronization

@main
struct MeshWatchBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mesh-watch-bench",
        abstract: "Concurrent Mesh/Watch streams over the wire on one control plane receive a burst of events.")

    @Option(help: "Watch streams.") var subscribers = 1_000
    @Option(help: "Events in the burst.") var events = 10_000
    @Option(help: "Client connections carrying the streams.") var connections = 8
    @Option(help: "The hub's per-subscriber buffer limit.") var buffer = 1_000
    @Option(help: "Synthetic workers whose health toggles.") var workers = 10
    @Flag(name: .customLong("no-resume"), help: "A stream ended as too slow does not resume.") var noResume = false

    func validate() throws {
        guard subscribers > 0, events > 0, connections > 0, buffer > 0, workers > 0 else {
            throw ValidationError("every count must be positive")
        }
    }

    func run() async throws {
        let (subscriberCount, eventCount, connectionCount, bufferLimit, syntheticWorkers) =
            (subscribers, events, connections, buffer, workers)
        let resumeOnTooSlow = !noResume
        let directory = NSTemporaryDirectory() + "mesh-watch-bench-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        say("mesh-watch-bench: \(subscriberCount) Watch streams over \(connectionCount) connections, burst of \(eventCount) "
            + "HEALTH_CHANGED events, hub buffer \(bufferLimit), "
            + (resumeOnTooSlow ? "a stream ended as too slow resumes" : "no resume"))
        say("rss at start: \(ResidentMemory.resident)")
        let platform = try await Platform.start(
            configuration: .init(
                port: 0, dataDirectory: directory, role: .controlPlane,
                mesh: .defaults { $0.bufferLimit = bufferLimit }))
        let token = try String(contentsOfFile: platform.registry.adminTokenPath, encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let port = platform.address.port ?? 0
        for w in 0..<syntheticWorkers {
            try platform.mesh.publish(
                .workerJoined(SchedulerCore.Worker(id: WorkerID("w\(w)"), address: "127.0.0.1:\(20_000 + w)", health: .serving)))
        }
        let baseRevision = platform.mesh.revision
        let lastRevision = baseRevision + UInt64(eventCount)
        say("rss with the control plane started: \(ResidentMemory.resident)")

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
                        var local = LatencyHistogram()
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
                                        local.record(nanoseconds: received > stamp ? received - stamp : 0)
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
        say("rss with \(subscriberCount) streams: \(ResidentMemory.resident)")

        // The burst: back to back from one task.
        let publishStarted = ContinuousClock.now
        for i in 0..<eventCount {
            let worker = "w\(i % syntheticWorkers)"
            let round = i / syntheticWorkers
            let health: SchedulerCore.HealthStatus = round % 2 == 0 ? .notServing : .serving
            try platform.mesh.publish(
                .healthChanged(MeshCore.HealthChanged(workerId: worker, health: health, reason: String(nowNs()))))
        }
        let publishTook = ContinuousClock.now - publishStarted
        say("publish burst: \(publishTook) for \(eventCount) events; hub revision \(platform.mesh.revision) (expected \(lastRevision))")
        say("rss right after the burst: \(ResidentMemory.resident)")

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
        let latency = final.histogram
        say("delivery latency (publish -> receipt) p50 \(latency.formatted(atPercentile: 0.5)), "
            + "p90 \(latency.formatted(atPercentile: 0.9)), p99 \(latency.formatted(atPercentile: 0.99)), max \(latency.formattedMax)")
        say("rss at end: \(ResidentMemory.resident); peak (VmHWM): \(ResidentMemory.peak)")
        subscribers.cancel()
        for client in clients { await client.close() }
        await platform.shutdown(gracePeriod: .milliseconds(200))
    }
}

func nowNs() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Shared results.
final class Results: Sendable {
    struct State {
        var histogram = LatencyHistogram()
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

