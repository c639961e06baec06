// mesh-balancer-bench: three in-process workers (one slow), the same load through RoundRobinBalancer and
// MeshBalancer; then a worker drained mid-way and a worker killed mid-way. Print-only; see docs/mesh-balancer.md.
import AIMassAPI
import AIMassClient
import AIMassServer
import Foundation
import MeshCore
import RPCCore
import RPCHTTP2
import Synchronization

/// Prints a line at once (stdout is a pipe when recorded).
func say(_ line: String) {
    FileHandle.standardOutput.write((line + "\n").data(using: .utf8) ?? Data())
}
let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return Int(arguments[index + 1]) ?? fallback
}
let totalCalls = option("--calls", 3_000)
let callers = option("--callers", 4)
let slowMs = option("--slow-ms", 20)

enum Balancer: String { case roundRobin = "round robin", mesh = "mesh" }
enum Disruption { case none, drain, kill }

struct Outcome: Sendable {
    var latency: Duration
    var servedBy: String?
}

func percentile(_ sorted: [Duration], _ p: Double) -> String {
    guard !sorted.isEmpty else { return "-" }
    let value = sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    return String(format: "%.3f ms", Double(value.components.attoseconds) / 1e15 + Double(value.components.seconds) * 1e3)
}

func run(_ balancerKind: Balancer, _ disruption: Disruption) async throws -> [Outcome] {
    let directory = NSTemporaryDirectory() + "mesh-balancer-bench-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let platform = try await Platform.start(configuration: .init(port: 0, dataDirectory: directory, role: .controlPlane))
    let token = try String(contentsOfFile: platform.registry.adminTokenPath, encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    let workers = [
        BenchWorker(id: "w1", delay: .zero), BenchWorker(id: "w2", delay: .zero),
        BenchWorker(id: "w3", delay: .milliseconds(slowMs)),
    ]
    for worker in workers {
        try await worker.start()
        try platform.mesh.publish(.workerJoined(MeshCore.Worker(id: worker.id, address: worker.address, health: .serving)))
        try platform.mesh.publish(
            .replicaReady(
                MeshCore.Replica(
                    id: "movies-\(worker.id)", deploymentId: "d", model: "movies", version: 1, workerId: worker.id,
                    state: .ready)))
    }
    // Workers report their load every 100 ms, as the scheduler will relay it.
    let reporter = Task {
        while !Task.isCancelled {
            for worker in workers {
                let load = worker.load
                _ = try? platform.mesh.publish(
                    .loadReported(
                        MeshCore.LoadReport(
                            workerId: worker.id, total: MeshCore.Load(inFlight: load.inFlight, latencyEwmaUs: load.latencyEwmaUs))))
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
    let watcher = MeshWatcher(
        controlPlanes: ["127.0.0.1:\(platform.address.port ?? 0)"], configuration: .defaults { $0.token = token })
    let watching = Task { await watcher.run() }
    let mesh = MeshBalancer(watcher: watcher)
    let roundRobin = RoundRobinBalancer(watcher: watcher)
    let maintaining = Task { await balancerKind == .mesh ? mesh.run() : roundRobin.run() }
    while watcher.view.eligibleWorkers(model: "movies").count < 3 { try await Task.sleep(for: .milliseconds(5)) }
    try await Task.sleep(for: .milliseconds(250))  // a first load report

    let tally = Tally()
    let request = RecommendRequest(model: "movies", userId: "u1", k: 10)
    await withTaskGroup(of: Void.self) { group in
        for _ in 0..<callers {
            group.addTask {
                while true {
                    let index = tally.nextIndex()
                    guard index < totalCalls else { return }
                    if index == totalCalls / 2, disruption != .none {
                        Task { await disrupt(disruption, workers[0], platform.mesh) }
                    }
                    let started = ContinuousClock.now
                    var servedBy: String?
                    do {
                        let options = CallOptions(timeout: .seconds(2))
                        let response: RecommendResponse =
                            balancerKind == .mesh
                            ? try await mesh.unary(model: "movies", method: RecommendMethods.recommend, request: request, options: options)
                            : try await roundRobin.unary(
                                model: "movies", method: RecommendMethods.recommend, request: request, options: options)
                        servedBy = response.servedBy?.workerId
                    } catch {}
                    let outcome = Outcome(latency: ContinuousClock.now - started, servedBy: servedBy)
                    tally.append(outcome)
                }
            }
        }
    }
    reporter.cancel()
    await mesh.close()
    await roundRobin.close()
    await watcher.close()
    _ = await (watching.value, maintaining.value)
    for worker in workers { await worker.stop(gracePeriod: .milliseconds(100)) }
    await platform.shutdown(gracePeriod: .milliseconds(200))
    return tally.outcomes
}

/// Shared counters of one run.
final class Tally: Sendable {
    private let state = Mutex<(issued: Int, outcomes: [Outcome])>((0, []))

    func nextIndex() -> Int {
        state.withLock { state in
            defer { state.issued += 1 }
            return state.issued
        }
    }

    func append(_ outcome: Outcome) { state.withLock { $0.outcomes.append(outcome) } }
    var outcomes: [Outcome] { state.withLock { $0.outcomes } }
}

/// Drain: the control plane marks the worker DRAINING, it finishes in-flight calls, then stops and leaves.
/// Kill: the worker stops at once; the control plane notices 500 ms later (lease) and publishes WORKER_LEFT.
func disrupt(_ disruption: Disruption, _ worker: BenchWorker, _ hub: MeshHub) async {
    switch disruption {
    case .none: return
    case .drain:
        _ = try? hub.publish(.healthChanged(MeshCore.HealthChanged(workerId: worker.id, health: .draining, reason: "drain")))
        try? await Task.sleep(for: .milliseconds(200))
        await worker.stop(gracePeriod: .seconds(1))
        _ = try? hub.publish(.workerLeft(MeshCore.WorkerLeft(workerId: worker.id, reason: "drained")))
    case .kill:
        await worker.stop(gracePeriod: .zero)
        try? await Task.sleep(for: .milliseconds(500))
        _ = try? hub.publish(.workerLeft(MeshCore.WorkerLeft(workerId: worker.id, reason: "lease expired")))
    }
}

func report(_ label: String, _ outcomes: [Outcome], fastOnly: Bool = false) {
    let ok = outcomes.filter { $0.servedBy != nil }
    let latencies = ok.map(\.latency).sorted()
    let failed = outcomes.count - ok.count
    var line = "\(label): calls \(outcomes.count), failed \(failed), p50 \(percentile(latencies, 0.5)), p99 \(percentile(latencies, 0.99))"
    let byWorker = Dictionary(grouping: ok, by: { $0.servedBy ?? "" }).mapValues(\.count)
    line += ", served " + byWorker.keys.sorted().map { "\($0)=\(byWorker[$0] ?? 0)" }.joined(separator: " ")
    say(line)
    if fastOnly {
        let fast = ok.filter { $0.servedBy != "w3" }.map(\.latency).sorted()
        say("  fast workers' own calls (w1, w2): p50 \(percentile(fast, 0.5)), p99 \(percentile(fast, 0.99))")
    }
}

say("mesh-balancer-bench: 3 workers (w3 +\(slowMs) ms per call), \(callers) concurrent callers, \(totalCalls) calls per run")
report("round robin        ", try await run(.roundRobin, .none), fastOnly: true)
report("mesh               ", try await run(.mesh, .none), fastOnly: true)
report("round robin, drain ", try await run(.roundRobin, .drain))
report("mesh, drain        ", try await run(.mesh, .drain))
report("round robin, kill  ", try await run(.roundRobin, .kill))
report("mesh, kill         ", try await run(.mesh, .kill))
