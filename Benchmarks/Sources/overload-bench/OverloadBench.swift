// overload-bench: drives one worker replica (a real RPCServer serving aimass.v1.Recommend from a ReplicaStore,
// as `aimass serve --role worker` does, with the worker's call gate and admission configuration) at a multiple of
// its capacity, with protection gate+replica, replica only and off, and prints admitted p50/p99 latency, goodput and
// where calls were shed (at the transport gate or at the replica); `overload-bench autoscale`
// instead runs SchedulerCore.Autoscaler on a simulated load ramp and prints the replica count over time.
// Print-only: not a test.
//
// The server runs in its own process (`overload-bench serve`, started by the driver, pinned with
// `taskset -c SERVER_CPU` when given, one event-loop thread); the driver (pin it yourself, e.g. `taskset -c 1`)
// spreads open-loop arrivals over several connections, each with a cap on its own outstanding calls below the
// server's stream limit (arrivals over the cap are counted as "not sent", never queued in the generator), and every
// call carries a deadline as grpc-timeout. Latency is measured from send to response. The server prints on exit
// how long calls took from their arrival (header parsing, where grpc-timeout starts) to the replica source, i.e.
// the wait admission cannot see.
//
//   taskset -c 1 overload-bench --server-cpu 0 [--data data/ml-100k.inter] [--seconds 5] [--multiplier 3]
//       [--connections 4] [--per-connection 32] [--deadline-ms 50]
//       [--repeat N]                 model work N× per call, after admission, as one synchronous piece on the
//                                    replica's inference executor (a heavy model that never yields)
//       [--executor-threads T]       inference threads of the server (default: the cores it may run on; 0: no
//                                    executor, queries inline on the Swift cooperative pool as before it existed)
//       [--inline-below-us U]        run a call inline when its model's measured service time is below U µs
//                                    (default 100; 0: always on the executor)
//       [--sleep-ms S [--jitter J]]  add S ms off-CPU per call (the executor thread sleeps, as when waiting on an
//                                    accelerator or a remote feature store), each call S × (1 ± J) uniformly
//       [--max-limit L] [--max-queue-wait W] [--tolerance C] [--jitter-allowance A]
//                                    override the worker's admission configuration
//       [--server-cgroup DIR]        put the server process in this cgroup (e.g. one with a CPU quota: see
//                                    scripts/bench-overload.sh SERVER_CPU_QUOTA)
//   taskset -c 1 overload-bench --server-cpu 0 --closed-loop N [same options]
//                                    N closed-loop callers against congestion tolerance 1.5, infinity and no
//                                    admission: throughput and latency (does admission use a concurrent replica?)
//       [--modes full,replica,off]   which protections to run (default all three; see GateProtection.swift)
//       [--gate-cores N]             size the gate for N cores (default: the server's cores, 1 when pinned)
//   overload-bench serve --data D [--protection on|off] [--gate on|off] [--hold-ms H]   a server alone (tests)
//   overload-bench autoscale
//
// `drive` (the first form) is the default subcommand, so `overload-bench --server-cpu 0 ...` runs it.
import ArgumentParser
import Foundation
import RPCHTTP2

@main
struct OverloadBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overload-bench",
        abstract: "Overload protection of one worker replica, and the autoscaler on a simulated ramp (print-only).",
        subcommands: [Drive.self, Serve.self, Autoscale.self],
        defaultSubcommand: Drive.self
    )
}

/// The driver: calibrates, then offers a multiple of capacity under each protection (or `--closed-loop N`).
struct Drive: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive a server process at a multiple of its capacity under each protection.")

    @OptionGroup var options: Options

    func run() async throws {
        if let callers = options.closedLoop {
            try await closedLoopComparison(options, callers: max(callers, 1))
            return
        }
        let deadline = Duration.microseconds(Int64(options.deadlineMs * 1000))
        print(
            "overload-bench: ML-100k itemcf" + (options.repeats > 1 ? " computed \(options.repeats)× per call" : "") + ", one replica; server process "
                + (options.serverCPU.map { "pinned to cpu \($0)" } ?? "unpinned")
                + (options.serverCgroup.map { " in cgroup \($0)" } ?? "") + " with \(options.threads) event-loop thread(s); "
                + "\(options.connections) connections, ≤ \(options.perConnection) outstanding each (server limit 256); "
                + "deadline \(Int(options.deadlineMs)) ms; \(options.multiplier)× capacity for \(options.seconds) s"
        )
        // Calibration on a server without admission: unloaded latency, then capacity = the best closed-loop throughput
        // with 1 or 8 callers per connection (nothing is shed; 8 keeps a cheap model's pipeline full, 1 avoids
        // interleaving a heavy model's calls into thrashing).
        var baselineP99 = 0.0
        var rate = 0.0
        do {
            let server = try ServerProcess(options, protection: .off)
            let clients = (0..<options.connections).map { _ in RPCClient(host: "127.0.0.1", port: server.port) }
            for client in clients { _ = try await unloaded(client, calls: 50) }
            let base = try await unloaded(clients[0], calls: 2000)
            baselineP99 = percentile(base, 0.99)
            print("unloaded (sequential, 2000 calls): p50 \(ms(percentile(base, 0.5))), p99 \(ms(baselineP99))")
            let few = await capacity(clients, concurrency: options.connections, seconds: 2)
            let many = await capacity(clients, concurrency: options.connections * 8, seconds: 2)
            let capacityRate = max(few, many)
            rate = capacityRate * options.multiplier
            print(String(
                format: "capacity (closed loop, best of %d / %d callers: %.0f / %.0f): %.0f calls/s; offered: %.0f calls/s",
                options.connections, options.connections * 8, few, many, capacityRate, rate
            ))
            for client in clients { await client.close() }
            server.stop()
        }
        try await runProtectionModes(options, rate: rate, deadline: deadline, baselineP99: baselineP99)
    }
}

/// A server alone: prints `port N`, serves until stdin closes (the driver's server process; tests use it too).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve one worker replica until stdin closes.")

    @OptionGroup var options: Options

    func run() async throws { try await serve(options) }
}

/// SchedulerCore.Autoscaler on a simulated load ramp: the replica count over time.
struct Autoscale: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The autoscaler on a simulated load ramp.")

    func run() { autoscaleRamp() }
}

/// `on` or `off`.
enum Switch: String, ExpressibleByArgument, Sendable {
    case on, off
}

/// The options of the driver and of the server it starts (the driver passes the server's on; see `ServerProcess`).
struct Options: ParsableArguments {
    @Option(help: "The interactions file (ML-100k).") var data = "data/ml-100k.inter"
    @Option(help: "Seconds per run.") var seconds = 5.0
    @Option(help: "Offered load as a multiple of the measured capacity.") var multiplier = 3.0
    @Option(name: .customLong("protection"), help: "serve: replica admission on or off.") var protectionSwitch: Switch = .on
    @Option(name: .customLong("server-cpu"), help: "Pin the server process to this CPU (taskset -c).") var serverCPU: String?
    @Option(name: .customLong("server-cgroup"), help: "Put the server process in this cgroup.") var serverCgroup: String?
    @Option(help: "The server's event-loop threads.") var threads = 1
    @Option(help: "The worker's target concurrency.") var target = 4
    @Option(help: "Client connections.") var connections = 4
    @Option(name: .customLong("per-connection"), help: "Outstanding calls per connection.") var perConnection = 32
    @Option(name: .customLong("deadline-ms"), help: "Every call's deadline (grpc-timeout).") var deadlineMs = 50.0
    @Option(name: .customLong("repeat"), help: "Model work N× per call, after admission.") var repeats = 1
    @Option(name: .customLong("max-limit"), help: "Override the admission's maximum limit.") var maxLimit: Int?
    @Option(name: .customLong("max-queue-wait"), help: "Override the admission's maximum queue wait.") var maxQueueWait: Double?
    @Option(help: "Override the admission's congestion tolerance.") var tolerance: Double?
    @Option(name: .customLong("jitter-allowance"), help: "Override the admission's jitter allowance.") var jitterAllowance: Double?
    @Option(name: .customLong("executor-threads"), help: "Inference threads of the server (0: inline on the pool).")
    var executorThreads: Int?
    @Option(name: .customLong("inline-below-us"), help: "Run a call inline below this measured service time (µs).")
    var inlineBelowMicros: Double?
    @Option(name: .customLong("sleep-ms"), help: "Off-CPU milliseconds per call.") var sleepMs = 0.0
    @Option(help: "Each call sleeps S × (1 ± J), J in 0…1.") var jitter = 0.0
    @Option(name: .customLong("closed-loop"), help: "N closed-loop callers instead of the open-loop overload.") var closedLoop: Int?
    @OptionGroup var gateOptions: GateOptions

    mutating func validate() throws {
        repeats = max(repeats, 1)
        jitter = min(max(jitter, 0), 1)
    }

    /// `serve`: whether replica admission is on.
    var protection: Bool { protectionSwitch == .on }
}
