// The transport call gate in overload-bench: which protection a run has, the server's gate (built exactly as a
// worker builds it), and the counters the server reports when it stops (sheds at the gate vs at the replica).
import ArgumentParser
import AIMassAPI
import AIMassServices
import Foundation
import RPCCore
import RPCHTTP2
import Synchronization

/// The protection of one overload run.
enum Protection: CaseIterable {
    /// The worker's configuration: the transport gate, then the replica's admission.
    case full
    /// The replica's admission alone (what workers had before the gate).
    case replicaOnly
    /// Neither.
    case off

    var name: String {
        switch self {
        case .full: "gate+replica"
        case .replicaOnly: "replica only"
        case .off: "off"
        }
    }

    var replicaAdmission: Bool { self != .off }
    var gate: Bool { self == .full }
}

/// The gate's options (a group apart from ``Options`` so that flags added elsewhere do not collide).
struct GateOptions: ParsableArguments {
    @Option(name: .customLong("modes"), help: "Protections the driver runs, in order: full (or gate), replica, off.")
    var modeList = "full,replica,off"
    @Option(name: .customLong("gate"), help: "serve: whether the server installs the call gate (with --protection on).")
    var gateSwitch: Switch = .on
    @Option(name: .customLong("gate-cores"), help: "Cores the gate is sized for (default: the server's; 1 when pinned).")
    var cores: Int?
    @Option(name: .customLong("hold-ms"), help: "serve: every call sleeps this long before the replica source (tests).")
    var holdMs = 0
    @Option(name: .customLong("queue-budget-ms"), help: "How long a call over the gate's limit may wait for a slot.")
    var queueBudgetMs = 5

    /// The modes the driver runs, in order (all three when none is recognised).
    var modes: [Protection] {
        let modes: [Protection] = modeList.split(separator: ",").compactMap { name in
            switch name {
            case "full", "gate": .full
            case "replica": .replicaOnly
            case "off": .off
            default: nil
            }
        }
        return modes.isEmpty ? Protection.allCases : modes
    }

    /// `serve`: whether the server installs the call gate.
    var gate: Bool { gateSwitch == .on }

    /// The `serve` arguments for a server of `protection`.
    func serverArguments(_ protection: Protection) -> [String] {
        var arguments = [
            "--gate", protection.gate ? "on" : "off", "--hold-ms", String(holdMs), "--queue-budget-ms", String(queueBudgetMs),
        ]
        if let cores { arguments += ["--gate-cores", String(cores)] }
        return arguments
    }
}

/// `serve`: the worker's call gate, or `nil` when protection or the gate is off.
func makeCallGate(_ options: Options) -> AdmissionCallGate? {
    guard options.protection, options.gateOptions.gate else { return nil }
    let budget = Duration.milliseconds(options.gateOptions.queueBudgetMs)
    guard let cores = options.gateOptions.cores else { return AdmissionCallGate.recommendInference(queueBudget: budget) }
    return AdmissionCallGate.recommendInference(cores: cores, queueBudget: budget)
}

/// Counts the calls a replica shed (`RESOURCE_EXHAUSTED` from the replica source), and holds calls when asked.
final class ReplicaShedCounter: ModelSource {
    let inner: any ModelSource
    let holdMs: Int
    let shed = Atomic<Int>(0)

    init(inner: any ModelSource, holdMs: Int) {
        self.inner = inner
        self.holdMs = holdMs
    }

    func withModel<T: Sendable>(
        _ model: String, _ selector: VersionSelector?, context: ServerContext,
        _ body: @escaping @Sendable (ServedModel) throws -> T
    ) async throws -> T {
        if holdMs > 0 { try await Task.sleep(for: .milliseconds(holdMs)) }
        do {
            return try await inner.withModel(model, selector, context: context, body)
        } catch let error as RPCError where error.code == .resourceExhausted {
            shed.add(1, ordering: .relaxed)
            throw error
        }
    }

    /// As the worker starts a call, on the I/O thread (unless calls are held: that waits, so it goes on as a task).
    func startServing<T: Sendable>(
        _ model: String, _ selector: VersionSelector?, context: ServerContext,
        _ body: @escaping @Sendable (ServedModel) throws -> T
    ) throws(RPCError) -> UnaryOutcome<T> {
        guard holdMs == 0 else { return .continueAsync { try await self.withModel(model, selector, context: context, body) } }
        do {
            switch try inner.startServing(model, selector, context: context, body) {
            case .response(let response):
                return .response(response)
            case .continueAsync(let rest):
                return .continueAsync {
                    do {
                        return try await rest()
                    } catch let error as RPCError where error.code == .resourceExhausted {
                        self.shed.add(1, ordering: .relaxed)
                        throw error
                    }
                }
            }
        } catch where error.code == .resourceExhausted {
            shed.add(1, ordering: .relaxed)
            throw error
        }
    }
}

/// What a `--serve` process counted, printed on stdout as one `counters …` line when it stops.
struct ServerCounters {
    var gateAdmitted = 0
    var gateShed = 0
    var gateShedForDeadline = 0
    var gateLimit = 0
    var replicaShed = 0

    init(gate: AdmissionCallGate?, replica: ReplicaShedCounter) {
        if let counters = gate?.counters {
            gateAdmitted = counters.admitted
            gateShed = counters.shed
            gateShedForDeadline = counters.shedForDeadline
        }
        gateLimit = gate?.limit ?? 0
        replicaShed = replica.shed.load(ordering: .relaxed)
    }

    init?(line: String) {
        let words = line.split(separator: " ")
        guard words.first == "counters", words.count == 6 else { return nil }
        let values = words.dropFirst().compactMap { Int($0) }
        guard values.count == 5 else { return nil }
        (gateAdmitted, gateShed, gateShedForDeadline, gateLimit, replicaShed) = (values[0], values[1], values[2], values[3], values[4])
    }

    var line: String { "counters \(gateAdmitted) \(gateShed) \(gateShedForDeadline) \(gateLimit) \(replicaShed)\n" }
}

extension ServerProcess {
    /// CPU time (user + system) the server process has used, from /proc (0 when unreadable).
    func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
            let end = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command name: state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Stops the server and reads the counters it prints on the way out.
    func stopReadingCounters() -> ServerCounters? {
        try? input.fileHandleForWriting.close()
        let rest = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return rest.split(separator: "\n").lazy.compactMap { ServerCounters(line: String($0)) }.first
    }
}

/// One overload run per protection mode (each on a fresh server), then the table.
func runProtectionModes(_ options: Options, rate: Double, deadline: Duration, baselineP99: Double) async throws {
    var results: [(Protection, Tally, Int, ServerCounters?, Double, Double)] = []
    for protection in options.gateOptions.modes {
        let server = try ServerProcess(options, protection: protection)
        let clients = (0..<options.connections).map { _ in RPCClient(host: "127.0.0.1", port: server.port) }
        // Warm up every connection and the replica.
        for client in clients { _ = try await unloaded(client, calls: 50) }
        let cpuBefore = server.cpuSeconds()
        let generatorBefore = generatorCPUSeconds()
        let (tally, arrivals) = await overload(clients, rate: rate, seconds: options.seconds, deadline: deadline, cap: options.perConnection)
        let cpu = server.cpuSeconds() - cpuBefore
        let generator = generatorCPUSeconds() - generatorBefore
        for client in clients { await client.close() }
        results.append((protection, tally, arrivals, server.stopReadingCounters(), cpu, generator))
    }
    print(
        "mode           arrivals  not-sent    sent      ok    shed  at-gate  at-replica  deadline  other  admitted p50  admitted p99  "
            + "p99/unloaded  goodput/s  shed p50/p99"
    )
    for (protection, tally, arrivals, counters, cpu, generator) in results {
        let c = tally.counts.withLock { $0 }
        let p99 = percentile(c.ok, 0.99)
        let gateShed = protection.gate ? String(counters?.gateShed ?? -1) : "-"
        let replicaShed = protection.replicaAdmission ? String(counters?.replicaShed ?? -1) : "-"
        print(
            protection.name.padding(toLength: 13, withPad: " ", startingAt: 0)
                + String(format: "  %8d  %8d  %6d  %6d  %6d  ", arrivals, c.notSent, arrivals - c.notSent, c.ok.count, c.shed.count)
                + pad(gateShed, 7) + "  " + pad(replicaShed, 10)
                + String(format: "  %8d  %5d  ", c.deadline, c.other)
                + pad(ms(percentile(c.ok, 0.5)), 12) + "  " + pad(ms(p99), 12)
                + String(format: "  %11.1f×  %9.0f  ", p99 / baselineP99, Double(c.ok.count) / options.seconds)
                + (c.shed.isEmpty ? "-" : ms(percentile(c.shed, 0.5)) + " / " + ms(percentile(c.shed, 0.99)))
        )
        if c.shedWithoutRetryAfter > 0 { print("  \(c.shedWithoutRetryAfter) RESOURCE_EXHAUSTED without retry-after-ms") }
        let sent = max(arrivals - c.notSent, 1)
        var server = String(
            format: "  server: %.0f %% of its cpu during the run, %.1f µs per call sent (generator: %.0f %% of its cpu)",
            cpu / options.seconds * 100, cpu / Double(sent) * 1e6, generator / options.seconds * 100
        )
        if let counters, protection.gate {
            server += "; gate: admitted \(counters.gateAdmitted), shed \(counters.gateShed) (\(counters.gateShedForDeadline) for their "
                + "deadline), final limit \(counters.gateLimit)"
        }
        print(server)
    }
}

func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }

/// CPU time (user + system) this process (the load generator) has used.
func generatorCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
    return user + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

/// The worker's gate, measured: forwards to it and records each admitted call's time from admission to status
/// (what the gate's limit learns) and the limit after each call.
final class MeasuredGate: ServerCallGate {
    let gate: AdmissionCallGate
    let service = SampleBox()
    let limits = SampleBox()

    init(_ gate: AdmissionCallGate) { self.gate = gate }

    func gates(_ method: MethodDescriptor) -> Bool { gate.gates(method) }
    func admit(_ call: GatedCall) -> CallGateDecision<AdmissionCallGate.Token> { gate.admit(call) }
    func callEnded(_ token: AdmissionCallGate.Token, outcome: GatedCallOutcome) {
        service.add(seconds(outcome.duration))
        gate.callEnded(token, outcome: outcome)
        limits.add(Double(gate.limit))
    }
    func withdraw(_ id: CallGateQueueID) { gate.withdraw(id) }
    var saturation: Int? { gate.saturation }

    /// One line for the server's report.
    var summary: String {
        let service = self.service.values.withLock { $0 }
        return "gate: admission to status p50 \(ms(percentile(service, 0.5))), p99 \(ms(percentile(service, 0.99))); "
            + "limit after each call p50 \(medianLimit(limits.values.withLock { $0 })), final \(gate.limit)"
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// The median of the gate's limits sampled after each call (exact: they are small integers), `-` when none.
func medianLimit(_ values: [Double]) -> String {
    guard !values.isEmpty else { return "-" }
    return String(Int(values.sorted()[(values.count - 1) / 2]))
}
