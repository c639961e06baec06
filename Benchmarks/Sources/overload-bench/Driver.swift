// overload-bench's driver: the server process it starts, calibration, open-loop and closed-loop load.
import AIMassAPI
import ArgumentParser
import AIMassServices
import BenchmarkSupport
import Foundation
import RPCCore
import RPCHTTP2
import RecommendCore
import SchedulerCore
import Synchronization

/// Outcomes of a run.
final class Tally: Sendable {
    struct Counts {
        var ok: [Double] = []
        var shed: [Double] = []
        var shedWithoutRetryAfter = 0
        var deadline = 0
        var other = 0
        var notSent = 0
    }
    let counts = Mutex(Counts())
    func ok(_ latency: Double) { counts.withLock { $0.ok.append(latency) } }
    func failed(_ error: RPCError?, latency: Double) {
        counts.withLock {
            switch error?.code {
            case .resourceExhausted?:
                $0.shed.append(latency)
                if error?.metadata.firstString(forKey: "retry-after-ms") == nil { $0.shedWithoutRetryAfter += 1 }
            case .deadlineExceeded?, .cancelled?: $0.deadline += 1
            default:
                $0.other += 1
                if $0.other <= 3 { FileHandle.standardError.write(Data("other: \(String(describing: error))\n".utf8)) }
            }
        }
    }
}

/// The value at quantile `p` (0…1) of latencies in seconds, on an HdrHistogram; NaN when there are none.
func percentile(_ values: [Double], _ p: Double) -> Double {
    LatencyHistogram(seconds: values).seconds(atPercentile: p)
}

func ms(_ seconds: Double) -> String { String(format: "%.2f ms", seconds * 1000) }

func loadRecommender(_ path: String) throws -> Recommender {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        print("cannot read \(path); run scripts/fetch-ml100k.sh data")
        exit(1)
    }
    return try Recommender(
        interactions: try InteractionTable(parsing: text),
        manifest: try Manifest(parsing: "algorithm = itemcf\nneighbours = 50")
    )
}

/// `serve`: a worker with one ready replica of the model, admission on or off, configured as
/// `WorkerAgent.admissionConfiguration(targetConcurrency:)` does; prints `port N`, serves until stdin closes.
func serve(_ options: Options) async throws {
    let recommender = try loadRecommender(options.data)
    let store = ReplicaStore()
    store.workerID = "bench"
    let target = max(options.target, 1)
    let admission = AdmissionController(configuration: .defaults {
        $0.initialLimit = target
        $0.maxLimit = options.maxLimit ?? max(target * 4, 4)
        $0.initialLimit = min($0.initialLimit, $0.maxLimit)
        if let wait = options.maxQueueWait { $0.maxQueueWait = wait }
        if let tolerance = options.tolerance { $0.congestionTolerance = tolerance }
        if let allowance = options.jitterAllowance { $0.jitterAllowance = allowance }
    })
    store.add(id: "movies@1#1", deploymentID: "movies@1", model: "movies", version: 1, admission: admission)
    store.markReady("movies@1#1", recommender: recommender)
    let expiry = Task {
        while !Task.isCancelled {
            admission.expire(now: MonotonicTime.now())
            try? await Task.sleep(for: .milliseconds(10))
        }
    }
    // --executor-threads 0: no executor, queries inline on the cooperative pool (as before the executor).
    let executor: InferenceExecutor? =
        options.executorThreads == 0
        ? nil
        : options.executorThreads == nil && options.inlineBelowMicros == nil
            ? .shared
            : InferenceExecutor(
                threads: options.executorThreads ?? InferenceExecutor.usableCores,
                inlineThreshold: options.inlineBelowMicros.map { $0 / 1e6 } ?? 0.000_1
            )
    // As a worker whose authorizer has the caller's answer cached: calls start on the I/O thread.
    let source = ReplicaModelSource(
        store: store, protection: options.protection, executor: executor, resolveNow: { _, _, _ in .version(nil) }
    ) { _, _, _ in nil }
    let model = HeavierModel(
        inner: source, repeats: options.repeats, sleep: options.sleepMs / 1000, jitter: options.jitter,
        timeout: options.deadlineMs / 1000
    )
    let counted = ReplicaShedCounter(inner: model, holdMs: options.gateOptions.holdMs)
    let gate = makeCallGate(options)
    let measured = gate.map(MeasuredGate.init)
    let server = RPCServer(
        configuration: .defaults {
            $0.port = 0
            $0.eventLoopThreads = options.threads
        },
        services: [RecommendService(source: counted, registry: nil)],
        callGate: measured
    )
    let address = try await server.start()
    FileHandle.standardOutput.write(Data("port \(address.port ?? 0)\n".utf8))
    // Serve until the driver closes our stdin.
    await Task.detached {
        while let line = readLine(), line != "quit" { _ = line }
    }.value
    let report = admission.loadReport(now: MonotonicTime.now())
    // Only calls sent with the benchmark deadline (the load), not the 5 s warm-up/capacity ones.
    let before = model.beforeAdmission.values.withLock { $0 }.filter { $0 >= 0 && $0 < 1 }
    FileHandle.standardOutput.write(Data(ServerCounters(gate: gate, replica: counted).line.utf8))
    if let measured { FileHandle.standardError.write(Data("server \(measured.summary)\n".utf8)) }
    let mode = "gate \(gate == nil ? "off" : "on"), admission \(options.protection ? "on" : "off")"
    let tolerance = options.tolerance.map { ", tolerance \($0)" } ?? ""
    let threads = executor.map { "\($0.threads) inference thread(s), inline below \($0.inlineThreshold * 1e6) µs" }
        ?? "inline on the cooperative pool"
    let arrival = "arrival to admission: p50 \(ms(percentile(before, 0.5))), p99 \(ms(percentile(before, 0.99)))"
    let line = "server (\(mode)\(tolerance)): replica final limit \(report.limit), latency EWMA \(ms(report.latencyEWMA)), "
    FileHandle.standardError.write(Data((line + threads + "; " + arrival + "\n").utf8))
    expiry.cancel()
    await server.shutdown(gracePeriod: .seconds(1))
    if let executor, executor !== InferenceExecutor.shared { executor.shutdown() }
}

/// A model `repeats` times as expensive: the real recommendation runs `repeats` times per call, all of it after
/// admission as one synchronous piece of work on the inference executor (inside the replica source's body), so
/// admission control sees a service time the RPC stack does not dwarf. With `sleep`, each call also waits that long
/// off-CPU (× 1 ± `jitter`), holding its executor thread: work that more threads really do run in parallel.
/// Also records, from each call's remaining grpc-timeout, how long it took to reach the replica source (the time
/// spent in the socket, the event loop and the task pool before admission could see the call).
struct HeavierModel: ModelSource {
    let inner: ReplicaModelSource
    let repeats: Int
    let sleep: Double
    let jitter: Double
    let timeout: Double
    let beforeAdmission = SampleBox()

    func withModel<T: Sendable>(
        _ model: String, _ selector: VersionSelector?, context: ServerContext,
        _ body: @escaping @Sendable (ServedModel) throws -> T
    ) async throws -> T {
        if let left = context.timeRemaining {
            let seconds = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
            beforeAdmission.add(timeout - seconds)
        }
        let (repeats, sleep, jitter) = (self.repeats, self.sleep, self.jitter)
        return try await inner.withModel(model, selector, context: context) { served in
            for _ in 1..<repeats { _ = try body(served) }
            if sleep > 0 {
                let seconds = sleep * (1 + Double.random(in: -jitter...jitter))
                usleep(UInt32(max(seconds, 0) * 1e6))
            }
            return try body(served)
        }
    }

    /// The real model (no repeats, no sleep) starts as a worker's does, on the I/O thread; a heavier one as a task.
    func startServing<T: Sendable>(
        _ model: String, _ selector: VersionSelector?, context: ServerContext,
        _ body: @escaping @Sendable (ServedModel) throws -> T
    ) throws(RPCError) -> UnaryOutcome<T> {
        guard repeats <= 1, sleep == 0 else {
            return .continueAsync { try await self.withModel(model, selector, context: context, body) }
        }
        if let left = context.timeRemaining {
            let seconds = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
            beforeAdmission.add(timeout - seconds)
        }
        return try inner.startServing(model, selector, context: context, body)
    }
}

final class SampleBox: Sendable {
    let values = Mutex<[Double]>([])
    func add(_ value: Double) { values.withLock { $0.append(value) } }
}

/// A server process started by the driver.
final class ServerProcess {
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    let port: Int

    init(_ options: Options, protection: Protection) throws {
        var arguments = [
            CommandLine.arguments[0], "serve", "--protection", protection.replicaAdmission ? "on" : "off", "--data", options.data,
            "--threads", String(options.threads), "--target", String(options.target), "--repeat", String(options.repeats),
            "--deadline-ms", String(options.deadlineMs),
        ]
        if let tolerance = options.tolerance { arguments += ["--tolerance", String(tolerance)] }
        if let allowance = options.jitterAllowance { arguments += ["--jitter-allowance", String(allowance)] }
        if let threads = options.executorThreads { arguments += ["--executor-threads", String(threads)] }
        if let micros = options.inlineBelowMicros { arguments += ["--inline-below-us", String(micros)] }
        if options.sleepMs > 0 { arguments += ["--sleep-ms", String(options.sleepMs), "--jitter", String(options.jitter)] }
        if let maxLimit = options.maxLimit { arguments += ["--max-limit", String(maxLimit)] }
        if let wait = options.maxQueueWait { arguments += ["--max-queue-wait", String(wait)] }
        arguments += options.gateOptions.serverArguments(protection)
        if let cpu = options.serverCPU {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
            arguments = ["-c", cpu] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            arguments.removeFirst()
        }
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        if let cgroup = options.serverCgroup {
            // A CPU quota smaller than the generator's core, so one generator core can offer 3× the server's capacity.
            let procs = URL(fileURLWithPath: cgroup).appendingPathComponent("cgroup.procs")
            try Data("\(process.processIdentifier)\n".utf8).write(to: procs)
        }
        var line = Data()
        while true {
            let byte = output.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("port "), let port = Int(text.dropFirst(5)) else {
            throw RPCError(code: .unavailable, message: "server did not start: \(text)")
        }
        self.port = port
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

let method = RecommendMethods.recommend

func call(_ client: RPCClient, user: Int, timeout: Duration?) async throws {
    let _: RecommendResponse = try await client.unary(
        method, request: RecommendRequest(model: "movies", userId: String(user), k: 10, excludeSeen: true),
        options: CallOptions(timeout: timeout)
    )
}

/// Sequential calls: the unloaded latency.
func unloaded(_ client: RPCClient, calls: Int) async throws -> [Double] {
    var latencies: [Double] = []
    for i in 0..<calls {
        let start = MonotonicTime.now()
        try await call(client, user: 1 + i % 943, timeout: .seconds(5))
        latencies.append(MonotonicTime.now() - start)
    }
    return latencies
}

/// Closed loop with `concurrency` callers spread over the clients for `seconds`: the capacity in calls per second.
func capacity(_ clients: [RPCClient], concurrency: Int, seconds: Double) async -> Double {
    let end = MonotonicTime.now() + seconds
    let done = Tally()
    await withTaskGroup(of: Void.self) { group in
        for worker in 0..<concurrency {
            let client = clients[worker % clients.count]
            group.addTask {
                var i = worker
                while MonotonicTime.now() < end {
                    if (try? await call(client, user: 1 + i % 943, timeout: .seconds(5))) != nil { done.ok(0) }
                    i += concurrency
                }
            }
        }
    }
    return Double(done.counts.withLock { $0.ok.count }) / seconds
}

/// Open loop: `rate` arrivals per second for `seconds`, round-robin over the clients, each call with `deadline`
/// (grpc-timeout). An arrival whose connection already has `cap` calls outstanding is not sent (counted).
func overload(_ clients: [RPCClient], rate: Double, seconds: Double, deadline: Duration, cap: Int) async -> (Tally, Int) {
    let tally = Tally()
    final class Outstanding: Sendable {
        let counts: Mutex<[Int]>
        init(_ n: Int) { counts = Mutex([Int](repeating: 0, count: n)) }
    }
    let outstanding = Outstanding(clients.count)
    let start = MonotonicTime.now()
    var arrivals = 0
    // Discarding: a plain task group keeps every finished child until awaited (KiBs per call, GiBs per run).
    await withDiscardingTaskGroup { group in
        while MonotonicTime.now() - start < seconds {
            let due = Int((MonotonicTime.now() - start) * rate)
            while arrivals < due {
                let user = 1 + arrivals % 943
                let index = arrivals % clients.count
                arrivals += 1
                let admitted = outstanding.counts.withLock { counts -> Bool in
                    guard counts[index] < cap else { return false }
                    counts[index] += 1
                    return true
                }
                guard admitted else {
                    tally.counts.withLock { $0.notSent += 1 }
                    continue
                }
                let client = clients[index]
                group.addTask {
                    let t0 = MonotonicTime.now()
                    do {
                        try await call(client, user: user, timeout: deadline)
                        tally.ok(MonotonicTime.now() - t0)
                    } catch let error as RPCError {
                        tally.failed(error, latency: MonotonicTime.now() - t0)
                    } catch {
                        tally.failed(nil, latency: MonotonicTime.now() - t0)
                    }
                    outstanding.counts.withLock { $0[index] -= 1 }
                }
            }
            try? await Task.sleep(for: .milliseconds(1))
        }
    }
    return (tally, arrivals)
}

func autoscaleRamp() {
    var scaler = Autoscaler(targetConcurrency: 4, minReplicas: 1, maxReplicas: 20)
    var replicas = 1
    print("autoscaling on a simulated ramp (target 4 in-flight per replica, min 1, max 20, Knative defaults: 60 s stable, 6 s panic)")
    print("  t(s)  offered-concurrency  replicas  mode")
    for t in stride(from: 0, through: 420, by: 1) {
        // 0-60 s idle at 2, ramp to 60 by 180 s, hold until 240 s, drop to 4 and stay.
        let offered: Double =
            t < 60 ? 2 : t < 180 ? 2 + Double(t - 60) / 120 * 58 : t < 240 ? 60 : 4
        scaler.record(concurrency: offered, at: Double(t))
        let decision = scaler.decide(current: replicas, now: Double(t))
        replicas = decision.desired
        if t % 15 == 0 {
            let mode = decision.panicking ? "panic" : decision.idle ? "idle" : "stable"
            print(String(format: "  %4d  %19.1f  %8d  ", t, offered, replicas) + mode)
        }
    }
}

/// `--closed-loop N`: N callers, each sending its next call as soon as the previous one ends (after a shed call, once
/// the `retry-after-ms` it carries has passed), for
/// `seconds`, against a server with congestion tolerance 1.5 (or `--tolerance`), one with infinite tolerance and
/// one without admission; prints throughput and latency of the answered calls. Shows whether admission lets a
/// replica that can run several calls at once (`--executor-threads`, `--sleep-ms`) actually run them.
func closedLoopComparison(_ options: Options, callers: Int) async throws {
    print(
        "overload-bench --closed-loop: \(callers) closed-loop callers over \(options.connections) connections for \(options.seconds) s; "
            + "model: ML-100k itemcf" + (options.repeats > 1 ? " × \(options.repeats)" : "")
            + (options.sleepMs > 0 ? String(format: " + %.2f ms off-CPU (± %.0f %%)", options.sleepMs, options.jitter * 100) : "")
            + "; inference threads \(options.executorThreads.map(String.init) ?? "default"); server "
            + (options.serverCPU.map { "pinned to cpu \($0)" } ?? "unpinned")
    )
    let modes: [(String, Double?, Bool)] = [
        ("tolerance \(options.tolerance.map { String($0) } ?? "1.5")", options.tolerance, true),
        ("tolerance inf", .infinity, true), ("admission off", nil, false),
    ]
    print("mode             calls/s      ok    shed  other  p50          p99")
    for (name, tolerance, protection) in modes {
        var serverOptions = options
        serverOptions.tolerance = tolerance
        let server = try ServerProcess(serverOptions, protection: protection ? .replicaOnly : .off)
        let clients = (0..<options.connections).map { _ in RPCClient(host: "127.0.0.1", port: server.port) }
        for client in clients { _ = try await unloaded(client, calls: 20) }
        let tally = Tally()
        let end = MonotonicTime.now() + options.seconds
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<callers {
                let client = clients[worker % clients.count]
                group.addTask {
                    var user = worker
                    while MonotonicTime.now() < end {
                        let t0 = MonotonicTime.now()
                        do {
                            try await call(client, user: 1 + user % 943, timeout: .seconds(1))
                            tally.ok(MonotonicTime.now() - t0)
                        } catch {
                            let rpcError = error as? RPCError
                            tally.failed(rpcError, latency: MonotonicTime.now() - t0)
                            // A shed caller waits as the retry-after-ms trailer asks (at most 100 ms), as a
                            // well-behaved client does; retrying at once would load the server with rejections.
                            if let hint = rpcError?.metadata.firstString(forKey: "retry-after-ms").flatMap(Int.init) {
                                try? await Task.sleep(for: .milliseconds(min(hint, 100)))
                            }
                        }
                        user += callers
                    }
                }
            }
        }
        for client in clients { await client.close() }
        server.stop()
        let c = tally.counts.withLock { $0 }
        print(
            name.padding(toLength: 15, withPad: " ", startingAt: 0)
                + String(format: "  %7.0f  %6d  %6d  %5d  ", Double(c.ok.count) / options.seconds, c.ok.count, c.shed.count, c.deadline + c.other)
                + ms(percentile(c.ok, 0.5)).padding(toLength: 11, withPad: " ", startingAt: 0) + "  " + ms(percentile(c.ok, 0.99))
        )
    }
}
