import Testing
import SchedulerCore

@Suite("Admission")
struct AdmissionTests {
    func controller(limit: Int = 4, queue: Int = 4, minLimit: Int = 1, maxLimit: Int = 64) -> AdmissionController {
        AdmissionController(
            configuration: .defaults {
                $0.initialLimit = limit
                $0.queueCapacity = queue
                $0.minLimit = minLimit
                $0.maxLimit = maxLimit
            }
        )
    }

    func ticket(_ decision: AdmissionDecision) -> AdmissionTicket? {
        if case .admitted(let ticket) = decision { return ticket } else { return nil }
    }

    @Test("Admits up to the limit, queues, then sheds with queueFull and a retry hint")
    func limitAndQueue() {
        let admission = controller(limit: 2, queue: 2)
        #expect(ticket(admission.admit(priority: 2, deadline: nil, now: 0)) != nil)
        #expect(ticket(admission.admit(priority: 2, deadline: nil, now: 0)) != nil)
        for _ in 0..<2 {
            guard case .queued = admission.admit(priority: 2, deadline: nil, now: 0) else {
                Issue.record("expected queued")
                return
            }
        }
        guard case .rejected(let code, let retryAfter) = admission.admit(priority: 2, deadline: nil, now: 0) else {
            Issue.record("expected rejected")
            return
        }
        #expect(code == .queueFull)
        #expect(retryAfter >= 0)
        let report = admission.loadReport(now: 0)
        #expect(report.inFlight == 2 && report.queueDepth == 2 && report.utilisation == 1)
    }

    @Test("Lower classes use only their share; higher classes keep the reserve and go first")
    func priorities() async throws {
        let admission = controller(limit: 4, queue: 8)
        // Batch may fill 50 % of 4 slots.
        let batch = [0, 1].compactMap { _ in ticket(admission.admit(priority: 0, deadline: nil, now: 0)) }
        #expect(batch.count == 2)
        guard case .queued(let batchWait) = admission.admit(priority: 0, deadline: nil, now: 0) else {
            Issue.record("batch beyond its share should queue")
            return
        }
        // Critical still gets the reserved slots.
        let critical = [0, 1].compactMap { _ in ticket(admission.admit(priority: 2, deadline: nil, now: 0)) }
        #expect(critical.count == 2)
        guard case .queued(let criticalWait) = admission.admit(priority: 2, deadline: nil, now: 0) else {
            Issue.record("expected critical to queue when full")
            return
        }
        // One slot frees: the queued critical call goes before the batch one that queued earlier.
        admission.release(critical[0], latency: 0.01, now: 1)
        let granted = try await admission.wait(for: criticalWait)
        #expect(granted.id == criticalWait.id)
        #expect(admission.loadReport(now: 1).queueDepth == 1)
        // Batch stays queued until total in-flight is below batch's share (2 of 4), even with free slots.
        admission.release(critical[1], latency: 0.01, now: 1)
        admission.release(batch[0], latency: 0.01, now: 1)
        #expect(admission.loadReport(now: 1).queueDepth == 1)
        admission.release(granted, latency: 0.01, now: 1)
        let batchTicket = try await admission.wait(for: batchWait)
        #expect(batchTicket.id == batchWait.id)
    }

    @Test("Deadline-aware: a call that cannot make its deadline is rejected at once")
    func deadlines() {
        let admission = controller(limit: 2, queue: 8, maxLimit: 2)
        // Teach it a service time of 100 ms.
        for _ in 0..<20 {
            guard let t = ticket(admission.admit(priority: 1, deadline: nil, now: 0)) else { return }
            admission.release(t, latency: 0.1, now: 0)
        }
        #expect(abs(admission.loadReport(now: 0).latencyEWMA - 0.1) < 1e-9)
        // Free slot, but 50 ms left is less than the 100 ms service time.
        guard case .rejected(.deadlineTooShort, _) = admission.admit(priority: 2, deadline: 10.05, now: 10) else {
            Issue.record("expected deadlineTooShort")
            return
        }
        _ = admission.admit(priority: 2, deadline: nil, now: 10)
        _ = admission.admit(priority: 2, deadline: nil, now: 10)
        // Full: the wait is about 1 × 0.1 / 2 = 0.05 s (one slot frees per service time / limit), plus 0.1 s.
        guard case .rejected(.deadlineTooShort, let retryAfter) = admission.admit(priority: 2, deadline: 10.12, now: 10)
        else {
            Issue.record("expected deadlineTooShort when queued")
            return
        }
        #expect(retryAfter > 0)
        guard case .queued = admission.admit(priority: 2, deadline: 10.5, now: 10) else {
            Issue.record("expected queued with a long deadline")
            return
        }
    }

    @Test("The queue is bounded in time: a call expected to wait longer than maxQueueWait service times is shed at once")
    func queueWaitBound() {
        let admission = AdmissionController(
            configuration: .defaults {
                $0.initialLimit = 2
                $0.maxLimit = 2
                $0.queueCapacity = 32
                $0.maxQueueWait = 1
            }
        )
        // Teach it a service time of 10 ms.
        for _ in 0..<20 {
            guard let t = ticket(admission.admit(priority: 2, deadline: nil, now: 0)) else { return }
            admission.release(t, latency: 0.01, now: 0)
        }
        _ = admission.admit(priority: 2, deadline: nil, now: 1)
        _ = admission.admit(priority: 2, deadline: nil, now: 1)
        // Full; each queued call waits about (ahead + 1) × 10 ms / 2: the 1st 5 ms, the 2nd 10 ms (= 1 service
        // time), the 3rd 15 ms — shed although 29 queue places and a 10 s deadline remain.
        for _ in 0..<2 {
            guard case .queued = admission.admit(priority: 2, deadline: 11, now: 1) else {
                Issue.record("expected queued")
                return
            }
        }
        guard case .rejected(.queueFull, let retryAfter) = admission.admit(priority: 2, deadline: 11, now: 1) else {
            Issue.record("expected queueFull from the wait bound")
            return
        }
        #expect(abs(retryAfter - 0.015) < 1e-9)
        #expect(admission.loadReport(now: 1).queueDepth == 2)
        // With the bound off, the count alone limits the queue (the old behaviour).
        let unbounded = AdmissionController(configuration: .defaults {
            $0.initialLimit = 1
            $0.maxLimit = 1
            $0.maxQueueWait = .infinity
        })
        guard let t = ticket(unbounded.admit(priority: 2, deadline: nil, now: 0)) else { return }
        unbounded.release(t, latency: 0.01, now: 0)
        _ = unbounded.admit(priority: 2, deadline: nil, now: 0)
        for _ in 0..<32 {
            guard case .queued = unbounded.admit(priority: 2, deadline: nil, now: 0) else {
                Issue.record("expected queued with the wait bound off")
                return
            }
        }
    }

    @Test("On a one-core replica (latency = calls in flight × service) the limit settles at 1-2, not at 4")
    func limitOnOneCore() {
        func settle(tolerance: Double) -> Int {
            let admission = AdmissionController(configuration: .defaults { $0.congestionTolerance = tolerance })
            var now = 0.0
            // Light load first: one call at a time teaches the minimum latency (1 ms).
            for _ in 0..<5 {
                guard let t = ticket(admission.admit(priority: 2, deadline: nil, now: now)) else { return 0 }
                admission.release(t, latency: 0.001, now: now)
            }
            // Then saturated: every slot busy.
            for _ in 0..<200 {
                let tickets = (0..<admission.limit).compactMap { _ in ticket(admission.admit(priority: 2, deadline: nil, now: now)) }
                for t in tickets { admission.release(t, latency: Double(tickets.count) * 0.001, now: now) }
                now += 0.01
            }
            return admission.limit
        }
        #expect(settle(tolerance: 1.5) <= 2)
        // The plain gradient's √limit headroom holds it at 4 (limit × 0.5 + √limit = limit at 4).
        #expect(settle(tolerance: .infinity) >= 4)
    }

    @Test("On a jittery 8-thread replica the limit reaches the 8 calls it can run at once, and keeps it busy")
    func limitOnJitteryConcurrentReplica() {
        // 2 ms ± 50 % per call (uniform): the best sample is half the typical one.
        var replica = SimulatedService(admission: AdmissionController(), service: 0.002, jitter: 0.5)
        let phase = replica.run(seconds: 20, threads: 8)
        #expect(phase.meanLimit >= 8)
        #expect(phase.throughput >= 0.95 * 8 / 0.002)
        // Not far past it either: calls wait little for a thread.
        #expect(phase.medianLatency < 1.5 * 0.002)
    }

    @Test("The limit still falls under real congestion: when the replica can run fewer calls, and on one core")
    func limitFallsUnderCongestion() {
        var replica = SimulatedService(admission: AdmissionController(), service: 0.002, jitter: 0.5)
        let wide = replica.run(seconds: 20, threads: 8)
        // The same replica loses 6 of its 8 threads (say, to a noisy neighbour): latency would quadruple.
        let narrow = replica.run(seconds: 20, threads: 2)
        #expect(narrow.meanLimit <= 4)
        #expect(narrow.meanLimit < wide.meanLimit / 2)
        #expect(narrow.throughput >= 0.95 * 2 / 0.002)
        // One core, fixed service time: every extra call in flight adds a whole service time.
        var oneCore = SimulatedService(admission: AdmissionController(), service: 0.002, jitter: 0)
        #expect(oneCore.run(seconds: 20, threads: 1).meanLimit <= 2.5)
    }

    @Test("A queued call whose deadline passes is shed by expire")
    func expiry() async {
        let admission = controller(limit: 1, queue: 4)
        _ = admission.admit(priority: 1, deadline: nil, now: 0)
        async let waited = admission.acquire(priority: 1, deadline: 1, now: 0)
        while admission.loadReport(now: 0).queueDepth == 0 { await Task.yield() }
        admission.expire(now: 2)
        do {
            _ = try await waited
            Issue.record("expected deadlineExceeded")
        } catch let error as AdmissionError {
            #expect(error.code == .deadlineExceeded)
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(admission.loadReport(now: 2).queueDepth == 0)
    }

    @Test("A cancelled waiter frees its queue place")
    func cancellation() async {
        let admission = controller(limit: 1, queue: 4)
        _ = admission.admit(priority: 1, deadline: nil, now: 0)
        let task = Task { try await admission.acquire(priority: 1, deadline: nil, now: 0) }
        while admission.loadReport(now: 0).queueDepth == 0 { await Task.yield() }
        task.cancel()
        let result = await task.result
        guard case .failure(let error as AdmissionError) = result else {
            Issue.record("expected cancelled, got \(result)")
            return
        }
        #expect(error.code == .cancelled)
        #expect(admission.loadReport(now: 0).queueDepth == 0)
    }

    @Test("The limit shrinks when latency rises above its minimum, and grows back when it falls")
    func adaptiveLimit() {
        let admission = controller(limit: 16, queue: 0, minLimit: 2, maxLimit: 32)
        var now = 0.0
        func round(latency: Double) {
            let tickets = (0..<admission.limit).compactMap { _ in ticket(admission.admit(priority: 2, deadline: nil, now: now)) }
            for t in tickets { admission.release(t, latency: latency, now: now) }
            now += 0.1
        }
        for _ in 0..<5 { round(latency: 0.01) }
        let start = admission.limit
        #expect(start >= 16)
        for _ in 0..<30 { round(latency: 0.1) }
        let congested = admission.limit
        #expect(congested < start)
        #expect(congested >= 2)
        for _ in 0..<60 { round(latency: 0.01) }
        #expect(admission.limit > congested)
        #expect(admission.limit <= 32)
    }

    @Test("Load report rates cover the time since the previous report")
    func loadReport() {
        let admission = controller(limit: 1, queue: 0, maxLimit: 1)
        _ = admission.loadReport(now: 0)
        for _ in 0..<10 {
            if let t = ticket(admission.admit(priority: 2, deadline: nil, now: 0)) {
                admission.release(t, latency: 0.002, now: 0.5)
            }
        }
        _ = admission.admit(priority: 2, deadline: nil, now: 1)
        _ = admission.admit(priority: 2, deadline: nil, now: 1)  // queue 0: shed
        let report = admission.loadReport(now: 2)
        #expect(report.servedPerSecond == 5)
        #expect(report.rejectedPerSecond == 0.5)
        #expect(report.inFlight == 1)
        #expect(abs(report.latencyEWMA - 0.002) < 1e-9)
    }
}
