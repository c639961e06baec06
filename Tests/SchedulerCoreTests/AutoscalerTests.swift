import Testing
import SchedulerCore

@Suite("Autoscaler")
struct AutoscalerTests {
    /// Runs the scaler once a second from `from` to `to` (inclusive) with `load(t)`, applying each decision at once.
    func run(
        _ scaler: inout Autoscaler,
        current: inout Int,
        from: Int,
        to: Int,
        load: (Double) -> Double
    ) -> [(time: Double, decision: Autoscaler.Decision)] {
        var log: [(Double, Autoscaler.Decision)] = []
        for second in from...to {
            let t = Double(second)
            scaler.record(concurrency: load(t), at: t)
            let decision = scaler.decide(current: current, now: t)
            current = decision.desired
            log.append((t, decision))
        }
        return log
    }

    @Test("A slow ramp scales up on the stable window without panicking")
    func rampUp() {
        var scaler = Autoscaler(targetConcurrency: 4, minReplicas: 1, maxReplicas: 10)
        var current = 1
        let log = run(&scaler, current: &current, from: 0, to: 60) { $0 / 2 }
        #expect(log.allSatisfy { !$0.decision.panicking })
        #expect(zip(log, log.dropFirst()).allSatisfy { $0.decision.desired <= $1.decision.desired })
        #expect(current == 4)  // ⌈average(0 … 30) / 4⌉ = ⌈15 / 4⌉
    }

    @Test("A spike panics, scales up at once, and holds for a stable window")
    func panic() {
        var scaler = Autoscaler(targetConcurrency: 4, minReplicas: 1, maxReplicas: 10)
        var current = 1
        _ = run(&scaler, current: &current, from: 0, to: 60) { _ in 2 }
        #expect(current == 1)
        let spike = run(&scaler, current: &current, from: 61, to: 63) { _ in 40 }
        // Panic average (5 × 2 + 40) / 6 ≈ 8.3 ≥ 2 × 4 × 1: panic, and ⌈8.3 / 4⌉ = 3 at once.
        #expect(spike[0].decision.panicking)
        #expect(spike[0].decision.desired == 3)
        #expect(spike[0].decision.stableConcurrency < 4)
        #expect(current >= 5)
        let peak = current
        // Load falls back: no scale-down while panicking, i.e. until 60 s after the last trigger (t = 61).
        // (3, not 2: 2 over the peak's replicas would be below the idle threshold, which releases at once.)
        let calm = run(&scaler, current: &current, from: 64, to: 120) { _ in 3 }
        #expect(calm.allSatisfy { $0.decision.desired == peak && $0.decision.panicking })
        // Out of panic at 121, it keeps the panic peak until the stable window has wanted fewer for a whole window.
        let after = run(&scaler, current: &current, from: 121, to: 180) { _ in 3 }
        #expect(after.allSatisfy { !$0.decision.panicking && $0.decision.desired == peak })
        let released = run(&scaler, current: &current, from: 181, to: 181) { _ in 3 }
        #expect(!released[0].decision.panicking)
        #expect(current == (peak + 1) / 2)
    }

    @Test("overload-bench's ramp: no dip when panic ends while the load still rises; released after the drop")
    func benchRampHasNoDip() {
        var scaler = Autoscaler(targetConcurrency: 4, minReplicas: 1, maxReplicas: 20)
        var current = 1
        // 0-60 s at 2, ramp to 60 by 180 s, hold until 240 s, then 4 (as `overload-bench autoscale`).
        let log = run(&scaler, current: &current, from: 0, to: 420) { t in
            t < 60 ? 2 : t < 180 ? 2 + (t - 60) / 120 * 58 : t < 240 ? 60 : 4
        }
        let rising = log.filter { $0.time < 240 }
        #expect(zip(rising, rising.dropFirst()).allSatisfy { $0.decision.desired <= $1.decision.desired })
        #expect(log.contains { $0.decision.panicking })
        // Panic ended while the load still rose, and the count kept climbing on the stable window.
        #expect(log.first { $0.time == 239 }.map { $0.decision.desired >= 15 } == true)
        #expect(current == 1)
    }

    @Test("No scale-down below what the offered calls per second needed when the replicas were shedding")
    func saturationGuard() {
        var configuration = Autoscaler.Configuration.defaults
        configuration.stableWindow = 6
        configuration.panicWindow = 1
        var scaler = Autoscaler(targetConcurrency: 2, minReplicas: 1, maxReplicas: 6, configuration: configuration)
        // One replica shed: it served 450 calls/s of 600 offered.
        scaler.record(servedPerSecond: 450, rejectedPerSecond: 150, replicas: 1, at: 0)
        // Two replicas since, shedding nothing at 700 calls/s, with about one call in flight: the concurrency
        // alone would scale down to one replica (⌈1 / 2⌉), which the shedding showed cannot serve 700 calls/s.
        var current = 2
        for step in 1...40 {
            let t = Double(step) * 0.5
            scaler.record(concurrency: 1, at: t)
            scaler.record(servedPerSecond: 700, rejectedPerSecond: 0, replicas: 2, at: t)
            current = scaler.decide(current: current, now: t).desired
            #expect(current == 2, "at \(t)")
        }
        // The offered rate falls to what one replica served while saturated: it may scale down.
        for step in 41...80 {
            let t = Double(step) * 0.5
            scaler.record(concurrency: 0.8, at: t)
            scaler.record(servedPerSecond: 300, rejectedPerSecond: 0, replicas: 2, at: t)
            current = scaler.decide(current: current, now: t).desired
        }
        #expect(current == 1)
    }

    @Test("A load still rising when panic ends is never scaled down on the lagging stable average")
    func noDipAfterPanic() {
        var scaler = Autoscaler(targetConcurrency: 4, minReplicas: 1, maxReplicas: 20)
        var current = 1
        _ = run(&scaler, current: &current, from: 0, to: 60) { _ in 2 }
        // A steep step, then a steady climb: the 60 s average lags far behind the load.
        let log = run(&scaler, current: &current, from: 61, to: 240) { t in 30 + (t - 61) * 0.2 }
        #expect(zip(log, log.dropFirst()).allSatisfy { $0.decision.desired <= $1.decision.desired })
        // At t = 240 the last 60 s averaged 30 + 0.2 × (149.5) ≈ 59.9: ⌈59.9 / 4⌉ = 15 replicas at least.
        #expect(current >= 15)
    }

    @Test("Scale-down is at most a halving per stable window")
    func scaleDownRate() {
        var scaler = Autoscaler(targetConcurrency: 4, minReplicas: 1, maxReplicas: 10)
        var current = 8
        _ = run(&scaler, current: &current, from: 0, to: 60) { _ in 32 }
        #expect(current == 8)
        let log = run(&scaler, current: &current, from: 61, to: 400) { _ in 3 }
        var previous: (time: Double?, count: Int) = (nil, 8)
        for entry in log where entry.decision.desired != previous.count {
            #expect(entry.decision.desired >= (previous.count + 1) / 2)
            if let time = previous.time { #expect(entry.time - time >= 60) }
            previous = (entry.time, entry.decision.desired)
        }
        #expect(current == 1)
    }

    @Test("Never above max nor below min")
    func bounds() {
        var scaler = Autoscaler(targetConcurrency: 4, minReplicas: 2, maxReplicas: 5)
        var current = 2
        let high = run(&scaler, current: &current, from: 0, to: 100) { _ in 1000 }
        #expect(high.allSatisfy { $0.decision.desired <= 5 })
        #expect(current == 5)
        let low = run(&scaler, current: &current, from: 101, to: 600) { _ in 0 }
        #expect(low.allSatisfy { $0.decision.desired >= 2 })
        #expect(current == 2)
    }

    @Test("Replicas idle below the threshold for a whole stable window are released to min")
    func idleRelease() {
        var scaler = Autoscaler(targetConcurrency: 4, minReplicas: 1, maxReplicas: 10)
        var current = 6
        // 0.5 in flight over 6 replicas ≈ 2 % of the target each.
        let early = run(&scaler, current: &current, from: 0, to: 59) { _ in 0.5 }
        #expect(early.allSatisfy { $0.decision.desired == 6 && !$0.decision.idle })
        let released = run(&scaler, current: &current, from: 60, to: 60) { _ in 0.5 }
        #expect(released[0].decision.idle)
        #expect(current == 1)
    }

    @Test("No history: keeps the current count")
    func noHistory() {
        var scaler = Autoscaler(targetConcurrency: 4, minReplicas: 1, maxReplicas: 10)
        #expect(scaler.decide(current: 3, now: 0).desired == 3)
    }
}
