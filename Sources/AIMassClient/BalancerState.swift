import AIMassAPI
import RPCCore

/// The pure state of a ``MeshBalancer``: per-worker statistics, ejections and the retry budget.
struct BalancerState: Sendable {
    /// What the client knows of one worker from its own calls.
    struct WorkerStats: Sendable {
        /// EWMA of call latency in microseconds; nil before the first sample.
        var latencyUs: Double?
        var lastSample: ContinuousClock.Instant?
        var outstanding = 0
        var consecutiveFailures = 0
        var ejections = 0
        var ejectedUntil: ContinuousClock.Instant?
    }

    /// How an attempt ended.
    enum Outcome {
        case success(Duration)
        case failure(StatusCode, Duration)
    }

    /// Latency assumed for a worker nobody has measured (1 ms).
    static let defaultLatencyUs = 1_000.0

    var stats: [String: WorkerStats] = [:]
    var tokens: Double
    private var generator = SystemRandomNumberGenerator()

    init(tokens: Double) {
        self.tokens = tokens
    }

    /// Power of two choices among `workers` (not empty), skipping ejected ones unless all are; reserves an
    /// outstanding call on the chosen one when `reserve`.
    mutating func choose(
        among workers: [Worker], now: ContinuousClock.Instant, configuration: MeshBalancer.Configuration, reserve: Bool
    ) -> Endpoint? {
        var candidates = workers.filter { worker in
            guard let until = stats[worker.id]?.ejectedUntil else { return true }
            return now >= until
        }
        if candidates.isEmpty { candidates = workers }
        let chosen: Worker
        if candidates.count == 1 {
            chosen = candidates[0]
        } else {
            let first = Int.random(in: 0..<candidates.count, using: &generator)
            var second = Int.random(in: 0..<(candidates.count - 1), using: &generator)
            if second >= first { second += 1 }
            let a = candidates[first]
            let b = candidates[second]
            chosen = score(a, now: now, configuration: configuration) <= score(b, now: now, configuration: configuration) ? a : b
        }
        guard let endpoint = Endpoint(chosen) else { return nil }
        if reserve { stats[chosen.id, default: WorkerStats()].outstanding += 1 }
        return endpoint
    }

    /// Expected cost of one more call: latency × (outstanding + 1) × (1 + reported queue / 4).
    ///
    /// The latency is the client's EWMA while fresh; once stale (no call for ``MeshBalancer/Configuration/latencyStaleAfter``)
    /// the worker's reported EWMA, or the smaller of the two, so a worker that was slow gets probed again now and then.
    func score(_ worker: Worker, now: ContinuousClock.Instant, configuration: MeshBalancer.Configuration) -> Double {
        let stat = stats[worker.id] ?? WorkerStats()
        let report = worker.load?.total
        let reported = report.flatMap { $0.latencyEwmaUs > 0 ? Double($0.latencyEwmaUs) : nil }
        let latency: Double
        if let own = stat.latencyUs, let last = stat.lastSample, now - last < configuration.latencyStaleAfter {
            latency = own
        } else if let own = stat.latencyUs {
            latency = min(own, reported ?? Self.defaultLatencyUs)
        } else {
            latency = reported ?? Self.defaultLatencyUs
        }
        let queue = Double(report?.queueDepth ?? 0)
        return latency * Double(stat.outstanding + 1) * (1 + queue / 4)
    }

    /// Records an attempt: latency EWMA, failures and ejection; releases the outstanding call.
    mutating func record(
        _ workerId: String, _ outcome: Outcome, now: ContinuousClock.Instant, configuration: MeshBalancer.Configuration
    ) {
        var stat = stats[workerId] ?? WorkerStats()
        stat.outstanding = max(0, stat.outstanding - 1)
        switch outcome {
        case .success(let elapsed):
            let sample = elapsed.seconds * 1e6
            stat.latencyUs = stat.latencyUs.map { $0 + configuration.latencyAlpha * (sample - $0) } ?? sample
            stat.lastSample = now
            stat.consecutiveFailures = 0
            if stat.ejectedUntil.map({ now >= $0 }) ?? true {
                stat.ejections = 0
                stat.ejectedUntil = nil
            }
        case .failure(.resourceExhausted, let elapsed):
            // Shed: the worker is overloaded, not broken; make it look slower instead of ejecting it.
            let sample = max(elapsed.seconds * 1e6, stat.latencyUs ?? Self.defaultLatencyUs) * 2
            stat.latencyUs = sample
            stat.lastSample = now
        case .failure(let code, _) where Self.countsAsFailure(code):
            stat.consecutiveFailures += 1
            if stat.consecutiveFailures >= configuration.ejectAfterFailures {
                stat.consecutiveFailures = 0
                stat.ejections += 1
                let pause = configuration.baseEjection * (1 << min(stat.ejections - 1, 16))
                stat.ejectedUntil = now + min(pause, configuration.maxEjection)
            }
        case .failure:
            break
        }
        stats[workerId] = stat
    }

    /// Failures that say the worker is broken (not the request): they count toward ejection.
    static func countsAsFailure(_ code: StatusCode) -> Bool {
        [.unavailable, .internalError, .unknown, .dataLoss].contains(code)
    }

    /// Spends one retry token if there is one.
    mutating func takeRetryToken() -> Bool {
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Workers ejected at `now`.
    func ejected(now: ContinuousClock.Instant) -> Set<String> {
        Set(stats.compactMap { id, stat in stat.ejectedUntil.map { now < $0 ? id : nil } ?? nil })
    }

    /// Drops the statistics of workers that left.
    mutating func forget(except live: Set<String>) {
        stats = stats.filter { live.contains($0.key) }
    }
}
