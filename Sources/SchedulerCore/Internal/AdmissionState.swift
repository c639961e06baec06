/// The pure state machine behind ``AdmissionController``: limit, queue and statistics, with no lock and no clock.
struct AdmissionState: Sendable {
    /// A queued call that got a slot or was shed while waiting.
    enum Resolution: Sendable {
        case granted(handle: UInt64, AdmissionTicket)
        case rejected(handle: UInt64, AdmissionError)
    }

    private struct Waiter: Sendable {
        var id: UInt64
        var deadline: Double?
    }

    let config: AdmissionController.Configuration
    /// The adaptive limit, fractional so that small steps accumulate.
    private(set) var limit: Double
    private(set) var inFlight = 0
    private var queues: [[Waiter]]
    private(set) var queueDepth = 0
    private var nextID: UInt64 = 1
    private(set) var latencyEWMA: Double?
    /// EWMA of the service time (the latency without queueing, when the caller reports it) and of each sample's
    /// distance from it: how jittery the service itself is.
    private var serviceEWMA: Double?
    private var serviceDeviation = 0.0
    private var previousWindowMin: Double?
    private var currentWindowMin: Double?
    private var windowStart: Double?
    private var served = 0
    private var rejected = 0
    private var lastReport: (time: Double, served: Int, rejected: Int)?
    private var lastRates = (served: 0.0, rejected: 0.0)

    init(config: AdmissionController.Configuration) {
        self.config = config
        self.limit = Double(min(max(config.initialLimit, config.minLimit), config.maxLimit))
        self.queues = Array(repeating: [], count: max(config.classShares.count, 1))
    }

    var effectiveLimit: Int { max(Int(limit), config.minLimit) }

    private func share(_ priorityClass: Int) -> Double {
        config.classShares.isEmpty ? 1 : config.classShares[priorityClass]
    }

    private func priorityClass(_ priority: Int) -> Int { min(max(priority, 0), queues.count - 1) }

    /// Slots a class may fill: its share of the limit, at least one.
    private func slots(for priorityClass: Int) -> Int { max(Int(Double(effectiveLimit) * share(priorityClass)), 1) }

    mutating func admit(priority: Int, deadline: Double?, now: Double) -> AdmissionDecision {
        let cls = priorityClass(priority)
        let service = latencyEWMA ?? 0
        var ahead = 0
        for higher in cls..<queues.count { ahead += queues[higher].count }
        if ahead == 0, inFlight < slots(for: cls) {
            if let deadline, deadline - now < service { return reject(.deadlineTooShort, retryAfter: service) }
            inFlight += 1
            defer { nextID += 1 }
            return .admitted(AdmissionTicket(id: nextID, priority: priority))
        }
        // Each of the limit's slots frees about once per service time.
        let wait = Double(ahead + 1) * service / Double(effectiveLimit)
        if let deadline, deadline - now < wait + service { return reject(.deadlineTooShort, retryAfter: wait) }
        // A queue bounded only by count lets calls wait many service times (32 calls ahead of a 4-slot limit is
        // 8 service times): bound the expected wait too, so admitted calls wait at most about as long as they run.
        if wait > config.maxQueueWait * service { return reject(.queueFull, retryAfter: wait) }
        let room = max(Int(Double(config.queueCapacity) * share(cls)), 1)
        if queueDepth >= room || queueDepth >= config.queueCapacity {
            return reject(.queueFull, retryAfter: max(wait, service))
        }
        let id = nextID
        nextID += 1
        queues[cls].append(Waiter(id: id, deadline: deadline))
        queueDepth += 1
        return .queued(AdmissionWaitHandle(id: id, priority: priority))
    }

    private mutating func reject(_ code: AdmissionError.Code, retryAfter: Double) -> AdmissionDecision {
        rejected += 1
        return .rejected(code, retryAfter: retryAfter)
    }

    /// Gives a slot back, learns from the latency, and hands free slots to queued calls (highest class first).
    mutating func release(
        _ ticket: AdmissionTicket, latency: Double, serviceTime: Double?, now: Double
    ) -> [Resolution] {
        let busy = inFlight
        inFlight = max(inFlight - 1, 0)
        served += 1
        observe(latency: max(latency, 0), service: max(serviceTime ?? latency, 0), busy: busy, now: now)
        return promote(now: now)
    }

    /// Gradient step: limit × clamp(baseline / recent latency, 0.5, 1) + √limit, smoothed per round trip; it does
    /// not grow while less than half the limit is in use (the load, not the replica, is the bottleneck). The
    /// baseline is the minimum latency plus `jitterAllowance` mean deviations of the service time.
    private mutating func observe(latency: Double, service: Double, busy: Int, now: Double) {
        if let previous = serviceEWMA {
            serviceDeviation += config.latencySmoothing * (abs(service - previous) - serviceDeviation)
        }
        serviceEWMA = serviceEWMA.map { $0 + config.latencySmoothing * (service - $0) } ?? service
        let ewma = latencyEWMA.map { $0 + config.latencySmoothing * (latency - $0) } ?? latency
        latencyEWMA = ewma
        if let start = windowStart, now - start < config.minLatencyWindow {
            currentWindowMin = min(currentWindowMin ?? latency, latency)
        } else {
            previousWindowMin = currentWindowMin
            currentWindowMin = latency
            windowStart = now
        }
        let minimum = min(previousWindowMin ?? .infinity, currentWindowMin ?? latency)
        guard ewma > 0 else { return }
        // A jittery service's best sample is far below its typical one even when nothing waits: without the
        // allowance an 8-thread replica at 2 ms ± 50 % looked congested at any load and its limit fell to 1.
        // The deviation of the service time, not of the latency: waiting in a queue varies too, and counted as
        // jitter it let a one-core replica's limit creep up.
        let baseline = minimum + config.jitterAllowance * serviceDeviation
        let gradient = min(max(baseline / ewma, 0.5), 1)
        // Headroom only while not congested; `.infinity` tolerance = always (the plain gradient).
        let congested = ewma > config.congestionTolerance * baseline
        var proposed = limit * gradient + (congested ? 0 : limit.squareRoot())
        if Double(busy) < limit / 2 { proposed = min(proposed, limit) }
        // One step per round trip, not per call: `limit` calls complete per round trip, and stepping on each of them
        // let a multi-thread replica's limit overshoot and oscillate (between 3 and 20 on 8 threads).
        limit += config.limitSmoothing / max(limit, 1) * (proposed - limit)
        limit = min(max(limit, Double(config.minLimit)), Double(config.maxLimit))
    }

    private mutating func promote(now: Double) -> [Resolution] {
        var out: [Resolution] = []
        for cls in stride(from: queues.count - 1, through: 0, by: -1) {
            while let first = queues[cls].first, inFlight < slots(for: cls) {
                queues[cls].removeFirst()
                queueDepth -= 1
                if let deadline = first.deadline, deadline <= now {
                    rejected += 1
                    out.append(.rejected(handle: first.id, AdmissionError(code: .deadlineExceeded, retryAfter: 0)))
                    continue
                }
                inFlight += 1
                out.append(.granted(handle: first.id, AdmissionTicket(id: first.id, priority: cls)))
            }
        }
        return out
    }

    /// Sheds queued calls whose deadline can no longer be met (now + expected service time).
    mutating func expire(now: Double) -> [Resolution] {
        let service = latencyEWMA ?? 0
        var out: [Resolution] = []
        for cls in queues.indices {
            queues[cls].removeAll { waiter in
                guard let deadline = waiter.deadline, deadline < now + service else { return false }
                out.append(.rejected(handle: waiter.id, AdmissionError(code: .deadlineExceeded, retryAfter: 0)))
                return true
            }
        }
        queueDepth -= out.count
        rejected += out.count
        return out + promote(now: now)
    }

    /// Removes a waiter (its task was cancelled); false if it is no longer queued.
    mutating func cancel(_ handle: AdmissionWaitHandle) -> Bool {
        let cls = priorityClass(handle.priority)
        guard let index = queues[cls].firstIndex(where: { $0.id == handle.id }) else { return false }
        queues[cls].remove(at: index)
        queueDepth -= 1
        return true
    }

    /// A snapshot; rates cover the time since the previous report (0 on the first one).
    mutating func report(now: Double) -> AdmissionLoad {
        if let last = lastReport, now > last.time {
            lastRates = (Double(served - last.served) / (now - last.time), Double(rejected - last.rejected) / (now - last.time))
        }
        if lastReport.map({ now > $0.time }) ?? true { lastReport = (now, served, rejected) }
        let limit = effectiveLimit
        return AdmissionLoad(
            inFlight: inFlight, queueDepth: queueDepth, servedPerSecond: lastRates.served,
            rejectedPerSecond: lastRates.rejected, latencyEWMA: latencyEWMA ?? 0, limit: limit,
            utilisation: min(Double(inFlight) / Double(max(limit, 1)), 1)
        )
    }
}
