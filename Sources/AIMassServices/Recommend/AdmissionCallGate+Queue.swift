import Dispatch
import RPCCore
import SchedulerCore
import Synchronization

/// The gate's queue: calls over the limit that can still start in time wait here (see ``AdmissionCallGate``).
extension AdmissionCallGate {
    /// Queues a call over the limit when it can still start in time; its id, or `nil` (shed it).
    func enqueue(_ waiter: CallGateWaiter, priority: Int, deadline: Double?, now: Double) -> UInt64? {
        guard queueBudget > 0 else { return nil }
        let typical = typicalSeconds
        let latestStart = min(now + maxWait, deadline.map { $0 - typical } ?? .infinity)
        let id: UInt64? = waiting.withLock { queue in
            // The calls ahead each free a slot in about `typical` divided by the calls in flight.
            let ahead = Double(queue.count + 1)
            let expectedWait = ahead * typical / Double(max(inFlight.load(ordering: .relaxed), 1))
            guard now + expectedWait <= latestStart else { return nil }
            let item = Waiting(waiter: waiter, priority: priority, deadline: deadline, queuedAt: now)
            guard let id = queue.insert(item, priority: priority, due: latestStart) else { return nil }
            queued.store(queue.count, ordering: .relaxed)
            return id
        }
        if id != nil {
            notePressure(now: now)
            metrics.queued.increment()
        }
        return id
    }

    /// Hands free slots to waiting calls, in the queue's order; sheds those that can no longer start in time.
    func promote(now: Double) {
        var resumed: [(CallGateWaiter, Result<AdmissionTicket, RPCError>)] = []
        waiting.withLock { queue in
            for expired in queue.removeDue(now: now) {
                let inTime = expired.item.deadline.map { $0 > now } ?? true
                shed.add(1, ordering: .relaxed)
                if !inTime { shedForDeadline.add(1, ordering: .relaxed) }
                (inTime ? metrics.shedQueueTimeout : metrics.shedDeadlineExceeded).increment()
                resumed.append((expired.item.waiter, .failure(Self.waitedTooLong(budget: maxWait, deadlinePassed: !inTime))))
            }
            admitting: while let next = queue.first {
                switch tryAdmit(priority: next.priority, deadline: next.item.deadline, now: now) {
                case .admitted(let ticket):
                    _ = queue.popFirst()
                    metrics.queueTime.recordNanoseconds(Int64(max(now - next.item.queuedAt, 0) * 1e9))
                    resumed.append((next.item.waiter, .success(ticket)))
                case .rejected(let code, let retryAfter) where code == .deadlineTooShort:
                    // It will not finish in time even with a slot: shed it, or it would block every call behind it.
                    _ = queue.popFirst()
                    shed.add(1, ordering: .relaxed)
                    shedForDeadline.add(1, ordering: .relaxed)
                    metrics.shed(code)
                    resumed.append((next.item.waiter, .failure(Self.rpcError(code: code, retryAfter: retryAfter))))
                default:
                    break admitting  // no slot yet
                }
            }
            queued.store(queue.count, ordering: .relaxed)
        }
        if queued.load(ordering: .relaxed) > 0 { armExpiry() }
        for (waiter, result) in resumed {
            switch result {
            case .success(let ticket): waiter.admit(ticket)
            case .failure(let error): waiter.reject(error)
            }
        }
    }

    /// Looks at the queue again after half the longest wait, while calls wait: a call that can no longer start in time
    /// is shed then even if no running call ends meanwhile (a queued call never waits much past its budget).
    func armExpiry() {
        guard expiryArmed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + max(maxWait / 2, 0.000_5)) { [weak self] in
            guard let self else { return }
            self.expiryArmed.store(false, ordering: .releasing)
            if self.queued.load(ordering: .relaxed) > 0 { self.promote(now: MonotonicTime.now()) }
        }
    }

    public func withdraw(_ id: CallGateQueueID) {
        waiting.withLock { queue in
            _ = queue.remove(id: id.rawValue)
            queued.store(queue.count, ordering: .relaxed)
        }
    }

    /// While calls wait or were shed in the last 100 ms: the calls in flight (at least one per core) plus as many
    /// again as can wait within the queue budget.
    public var saturation: Int? {
        let now = Int(MonotonicTime.now() * 1e9)
        guard queued.load(ordering: .relaxed) > 0 || now - lastPressureNanos.load(ordering: .relaxed) < 100_000_000
        else { return nil }
        let running = max(inFlight.load(ordering: .relaxed), cores)
        let typical = max(typicalSeconds, 1e-6)
        return running + Int(Double(running) * min(maxWait / typical, 64))
    }

    var typicalSeconds: Double { Double(typicalNanos.load(ordering: .relaxed)) / 1e9 }

    /// The longest a call may wait now: the queue budget, and (with `capWaitAtTypicalCall`, the default budget's way)
    /// no longer than a typical call lasts once one has been measured: under sustained overload every admitted call
    /// waits about this long, so it bounds their latency at about twice the unloaded one (the heavy model of
    /// docs/scheduler.md: admitted p99 2.0x unloaded with waits up to the 5 ms budget, 1.3 ms calls).
    var maxWait: Double {
        let typical = typicalSeconds
        return capWaitAtTypicalCall && typical > 0 ? min(queueBudget, typical) : queueBudget
    }

    func notePressure(now: Double) {
        lastPressureNanos.store(Int(now * 1e9), ordering: .relaxed)
    }

    /// Counts a shed and returns its status.
    func shed(code: AdmissionError.Code, retryAfter: Double, now: Double) -> CallGateDecision<AdmissionTicket> {
        shed.add(1, ordering: .relaxed)
        if code == .deadlineTooShort { shedForDeadline.add(1, ordering: .relaxed) }
        metrics.shed(code)
        notePressure(now: now)
        return .reject(Self.rpcError(code: code, retryAfter: retryAfter))
    }

    /// `seconds` in milliseconds for a message: whole above 10 ms, one decimal below.
    static func milliseconds(_ seconds: Double) -> String {
        let ms = seconds * 1000
        return ms >= 10 ? String(Int(ms.rounded())) : String(Double((ms * 10).rounded()) / 10)
    }

    /// The status of a queued call that could not start in time.
    static func waitedTooLong(budget: Double, deadlinePassed: Bool) -> RPCError {
        if deadlinePassed {
            return RPCError(code: .deadlineExceeded, message: "deadline exceeded while queued for a slot")
        }
        var error = rpcError(code: .queueFull, retryAfter: budget)
        error.message = "server overloaded: no slot within the queue budget (\(Self.milliseconds(budget)) ms)"
        return error
    }
}
