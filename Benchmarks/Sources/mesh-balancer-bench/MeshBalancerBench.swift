// mesh-balancer-bench: three worker processes (one slow), the same load through RoundRobinBalancer and
// MeshBalancer; then a worker drained mid-way and a worker's process killed (SIGKILL) mid-way. Print-only; see docs/mesh-balancer.md.
import AIMassAPI
import AIMassClient
import AIMassServer
import ArgumentParser
import BenchmarkSupport
import Foundation
import MeshCore
import RPCCore
import RPCHTTP2
import SchedulerCore
import Synchronization

@main
struct MeshBalancerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mesh-balancer-bench",
        abstract: "The same load through RoundRobinBalancer and MeshBalancer over three workers, one slow.",
        subcommands: [Run.self, WorkerCommand.self],
        defaultSubcommand: Run.self
    )
}

/// One benchmark worker, started by `run` as a child process (see ``WorkerProcess``).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "One benchmark worker (started by the benchmark itself).")

    @Option var id: String
    @Option(name: .customLong("delay-ms")) var delayMs = 0

    func run() async throws {
        let worker = BenchWorker(id: id, delay: .milliseconds(delayMs))
        try await worker.start()
        say("port \(worker.port)")
        let reporter = Task {
            while !Task.isCancelled {
                let load = worker.load
                say("load \(load.inFlight) \(load.latencyEwmaUs)")
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        let grace = await stopRequest()
        reporter.cancel()
        await worker.stop(gracePeriod: grace)
    }

    /// Waits for `stop MS` on stdin (EOF: a stop with no grace).
    private func stopRequest() async -> Duration {
        await withCheckedContinuation { continuation in
            Thread {
                while let line = readLine() {
                    if line.hasPrefix("stop ") {
                        continuation.resume(returning: .milliseconds(Int(line.dropFirst(5)) ?? 0))
                        return
                    }
                }
                continuation.resume(returning: .zero)
            }.start()
        }
    }
}

/// The benchmark (the default subcommand).
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Round robin and mesh balancing, undisturbed, with a drain and with a SIGKILL.")

    @Option(help: "Calls per run.") var calls = 3_000
    @Option(help: "Concurrent callers.") var callers = 4
    @Option(name: .customLong("slow-ms"), help: "Extra milliseconds per call on the slow worker (w3).") var slowMs = 20

    func validate() throws {
        guard calls > 0, callers > 0, slowMs >= 0 else { throw ValidationError("--calls and --callers must be positive") }
    }

    func run() async throws {
        let load = Load(totalCalls: calls, callers: callers, slowMs: slowMs)
        say("mesh-balancer-bench: 3 workers (w3 +\(slowMs) ms per call), \(callers) concurrent callers, \(calls) calls per run")
        report("round robin        ", try await measure(.roundRobin, .none, load), fastOnly: true)
        report("mesh               ", try await measure(.mesh, .none, load), fastOnly: true)
        report("round robin, drain ", try await measure(.roundRobin, .drain, load))
        report("mesh, drain        ", try await measure(.mesh, .drain, load))
        report("round robin, kill  ", try await measure(.roundRobin, .kill, load))
        report("mesh, kill         ", try await measure(.mesh, .kill, load))
    }
}

/// The load of one run.
struct Load: Sendable {
    var totalCalls: Int
    var callers: Int
    var slowMs: Int
}

enum Balancer: String { case roundRobin = "round robin", mesh = "mesh" }
enum Disruption { case none, drain, kill }

struct Outcome: Sendable {
    var latency: Duration
    var servedBy: String?
}

func measure(_ balancerKind: Balancer, _ disruption: Disruption, _ load: Load) async throws -> [Outcome] {
    let (totalCalls, callers, slowMs) = (load.totalCalls, load.callers, load.slowMs)
    let directory = NSTemporaryDirectory() + "mesh-balancer-bench-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let platform = try await Platform.start(configuration: .init(port: 0, dataDirectory: directory, role: .controlPlane))
    let token = try String(contentsOfFile: platform.registry.adminTokenPath, encoding: .utf8)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    let workers = [
        WorkerProcess(id: "w1", delay: .zero), WorkerProcess(id: "w2", delay: .zero),
        WorkerProcess(id: "w3", delay: .milliseconds(slowMs)),
    ]
    for worker in workers {
        try await worker.start()
        try platform.mesh.publish(.workerJoined(SchedulerCore.Worker(id: WorkerID(worker.id), address: worker.address, health: .serving)))
        try platform.mesh.publish(
            .replicaReady(
                SchedulerCore.Replica(
                    id: ReplicaID("movies-\(worker.id)"), deploymentID: "d", model: "movies", version: 1,
                    workerID: WorkerID(worker.id), state: .ready)))
    }
    // Workers report their load every 100 ms, as the scheduler will relay it.
    let reporter = Task {
        while !Task.isCancelled {
            for worker in workers where worker.isAlive {
                let load = worker.load
                _ = try? platform.mesh.publish(
                    .loadReported(
                        SchedulerCore.LoadReport(
                            workerId: worker.id,
                            total: SchedulerCore.Load(inFlight: load.inFlight, latencyEwmaUs: load.latencyEwmaUs))))
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
    for worker in workers where worker.isAlive { await worker.stop(gracePeriod: .milliseconds(100)) }
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
/// Kill: the worker's process gets SIGKILL (its sockets close mid-call); the control plane notices 500 ms later
/// (standing in for the lease expiring: these workers do not hold leases) and publishes WORKER_LEFT.
func disrupt(_ disruption: Disruption, _ worker: WorkerProcess, _ hub: MeshHub) async {
    switch disruption {
    case .none: return
    case .drain:
        _ = try? hub.publish(.healthChanged(MeshCore.HealthChanged(workerId: worker.id, health: .draining, reason: "drain")))
        try? await Task.sleep(for: .milliseconds(200))
        await worker.stop(gracePeriod: .seconds(1))
        _ = try? hub.publish(.workerLeft(MeshCore.WorkerLeft(workerId: worker.id, reason: "drained")))
    case .kill:
        await worker.kill()
        try? await Task.sleep(for: .milliseconds(500))
        _ = try? hub.publish(.workerLeft(MeshCore.WorkerLeft(workerId: worker.id, reason: "lease expired")))
    }
}

func report(_ label: String, _ outcomes: [Outcome], fastOnly: Bool = false) {
    let ok = outcomes.filter { $0.servedBy != nil }
    var latencies = LatencyHistogram()
    for outcome in ok { latencies.record(outcome.latency) }
    let failed = outcomes.count - ok.count
    var line = "\(label): calls \(outcomes.count), failed \(failed), p50 \(latencies.formatted(atPercentile: 0.5)), "
        + "p99 \(latencies.formatted(atPercentile: 0.99))"
    let byWorker = Dictionary(grouping: ok, by: { $0.servedBy ?? "" }).mapValues(\.count)
    line += ", served " + byWorker.keys.sorted().map { "\($0)=\(byWorker[$0] ?? 0)" }.joined(separator: " ")
    say(line)
    if fastOnly {
        var fast = LatencyHistogram()
        for outcome in ok where outcome.servedBy != "w3" { fast.record(outcome.latency) }
        say(
            "  fast workers' own calls (w1, w2): p50 \(fast.formatted(atPercentile: 0.5)), "
                + "p99 \(fast.formatted(atPercentile: 0.99))")
    }
}
