// overload-bench: drives one worker replica (a real RPCServer serving aimass.v1.Recommend from a ReplicaStore,
// as `aimass serve --role worker` does) at a multiple of its capacity, with admission control on and off, and
// prints admitted p50/p99 latency and goodput; `--autoscale` instead runs SchedulerCore.Autoscaler on a simulated
// load ramp and prints the replica count over time. Print-only: not a test.
//
//   swift run -c release overload-bench [--data data/ml-100k.inter] [--seconds 5] [--multiplier 3]
//   swift run -c release overload-bench --autoscale
import AIMassAPI
import AIMassServices
import Foundation
import RPCCore
import RPCHTTP2
import RecommendCore
import SchedulerCore
import Synchronization

struct Options {
    var data = "data/ml-100k.inter"
    var seconds = 5.0
    var multiplier = 3.0
    var autoscale = false

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--data": data = iterator.next() ?? data
            case "--seconds": seconds = iterator.next().flatMap(Double.init) ?? seconds
            case "--multiplier": multiplier = iterator.next().flatMap(Double.init) ?? multiplier
            case "--autoscale": autoscale = true
            default:
                FileHandle.standardError.write(Data("unknown argument \(argument)\n".utf8))
                exit(2)
            }
        }
    }
}

/// Outcomes of a run.
final class Tally: Sendable {
    struct Counts {
        var ok: [Double] = []
        var shed = 0
        var deadline = 0
        var other = 0
    }
    let counts = Mutex(Counts())
    func ok(_ latency: Double) { counts.withLock { $0.ok.append(latency) } }
    func failed(_ code: StatusCode?) {
        counts.withLock {
            switch code {
            case .resourceExhausted?: $0.shed += 1
            case .deadlineExceeded?, .cancelled?: $0.deadline += 1
            default:
                $0.other += 1
                if $0.other <= 3 { FileHandle.standardError.write(Data("other: \(String(describing: code))\n".utf8)) }
            }
        }
    }
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * p))]
}

func ms(_ seconds: Double) -> String { String(format: "%.2f ms", seconds * 1000) }

/// A server with one ready replica of the model; admission on or off.
func startWorker(recommender: Recommender, protection: Bool) async throws -> (RPCServer, Int) {
    let store = ReplicaStore()
    store.workerID = "bench"
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let admission = AdmissionController(configuration: .defaults {
        $0.initialLimit = cores
        $0.maxLimit = cores * 4
        $0.queueCapacity = cores * 2
    })
    store.add(id: "movies@1#1", deploymentID: "movies@1", model: "movies", version: 1, admission: admission)
    store.markReady("movies@1#1", recommender: recommender)
    let expiry = Task {
        while !Task.isCancelled {
            admission.expire(now: MonotonicTime.now())
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
    _ = expiry
    let source = ReplicaModelSource(store: store, protection: protection) { _, _, _ in nil }
    let server = RPCServer(
        configuration: .defaults { $0.port = 0 },
        services: [RecommendService(source: source, registry: nil)]
    )
    let address = try await server.start()
    return (server, address.port ?? 0)
}

let method = MethodDescriptor(service: "aimass.v1.Recommend", method: "Recommend")

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

/// Closed loop with `concurrency` callers for `seconds`: the capacity in calls per second.
func capacity(_ client: RPCClient, concurrency: Int, seconds: Double) async -> Double {
    let end = MonotonicTime.now() + seconds
    let done = Tally()
    await withTaskGroup(of: Void.self) { group in
        for worker in 0..<concurrency {
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

/// Open loop: `rate` arrivals per second for `seconds`, each with `deadline`.
func overload(_ client: RPCClient, rate: Double, seconds: Double, deadline: Duration) async -> (Tally, Int) {
    let tally = Tally()
    let start = MonotonicTime.now()
    var sent = 0
    await withTaskGroup(of: Void.self) { group in
        while MonotonicTime.now() - start < seconds {
            let due = Int((MonotonicTime.now() - start) * rate)
            while sent < due {
                let user = 1 + sent % 943
                sent += 1
                group.addTask {
                    let t0 = MonotonicTime.now()
                    do {
                        try await call(client, user: user, timeout: deadline)
                        tally.ok(MonotonicTime.now() - t0)
                    } catch let error as RPCError {
                        tally.failed(error.code)
                    } catch {
                        tally.failed(nil)
                    }
                }
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
    return (tally, sent)
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

let options = Options(CommandLine.arguments)
if options.autoscale {
    autoscaleRamp()
    exit(0)
}
guard let text = try? String(contentsOfFile: options.data, encoding: .utf8) else {
    print("cannot read \(options.data); run scripts/fetch-ml100k.sh data")
    exit(1)
}
let recommender = try Recommender(
    interactions: try InteractionTable(parsing: text),
    manifest: try Manifest(parsing: "algorithm = itemcf\nneighbours = 50")
)
let cores = ProcessInfo.processInfo.activeProcessorCount
print("overload-bench: ML-100k itemcf, one replica, \(cores) cores, \(options.multiplier)× capacity for \(options.seconds) s")
var baselineP99 = 0.0
var results: [(String, Tally, Int)] = []
var rate = 0.0
var deadline = Duration.milliseconds(100)
for protection in [true, false] {
    let (server, port) = try await startWorker(recommender: recommender, protection: protection)
    let client = RPCClient(host: "127.0.0.1", port: port)
    if protection {
        let base = try await unloaded(client, calls: 300)
        baselineP99 = percentile(base, 0.99)
        print("unloaded: p50 \(ms(percentile(base, 0.5))), p99 \(ms(baselineP99))")
        let capacityRate = await capacity(client, concurrency: cores * 2, seconds: 2)
        rate = capacityRate * options.multiplier
        deadline = .microseconds(Int64(max(baselineP99 * 10, 0.05) * 1_000_000))
        let seconds = Double(deadline.components.seconds) + Double(deadline.components.attoseconds) / 1e18
        print(String(format: "capacity: %.0f calls/s; offered: %.0f calls/s; deadline per call: ", capacityRate, rate) + ms(seconds))
    }
    let (tally, sent) = await overload(client, rate: rate, seconds: options.seconds, deadline: deadline)
    results.append((protection ? "admission on" : "admission off", tally, sent))
    await client.close()
    await server.shutdown(gracePeriod: .seconds(1))
}
print("mode           sent    ok      shed    deadline  other  admitted p50  admitted p99  p99/unloaded  goodput/s")
for (name, tally, sent) in results {
    let c = tally.counts.withLock { $0 }
    let p50 = percentile(c.ok, 0.5)
    let p99 = percentile(c.ok, 0.99)
    func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
    print(
        name.padding(toLength: 13, withPad: " ", startingAt: 0)
            + String(format: "  %6d  %6d  %6d  %8d  %5d  ", sent, c.ok.count, c.shed, c.deadline, c.other)
            + pad(ms(p50), 12) + "  " + pad(ms(p99), 12)
            + String(format: "  %11.1f×  %9.0f", p99 / baselineP99, Double(c.ok.count) / options.seconds)
    )
}
