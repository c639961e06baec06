import SchedulerCore
import Testing

/// The concurrency the pool's autoscaling feeds to a deployment's Autoscaler from its replicas' load reports.
@Suite("Autoscale signal")
struct AutoscaleSignalTests {
    /// What `aimass serve` measured with 12 closed-loop callers on one replica (target concurrency 2): admission
    /// control keeps about one call in flight and one queued and sheds the rest (~190/s).
    static let shedding = Load(
        replicaId: "r1", inFlight: 1, queueDepth: 1, servedPerSec: 850, rejectedPerSec: 190, latencyEwmaUs: 900,
        utilisation: 1
    )

    @Test("a replica that sheds calls counts as above its target, so the deployment scales up")
    func sheddingScalesUp() {
        let signal = PoolAutoscaler.offeredConcurrency(Self.shedding, targetConcurrency: 2)
        #expect(signal > 2)
        var configuration = Autoscaler.Configuration.defaults
        configuration.stableWindow = 6
        configuration.panicWindow = 1
        var scaler = Autoscaler(targetConcurrency: 2, minReplicas: 1, maxReplicas: 6, configuration: configuration)
        var desired = 1
        for step in 0..<20 {
            let now = Double(step) * 0.5
            scaler.record(concurrency: signal, at: now)
            desired = scaler.decide(current: desired, now: now).desired
        }
        #expect(desired >= 2)
    }

    @Test("without shedding the signal is in-flight plus queued calls")
    func notShedding() {
        var load = Self.shedding
        load.rejectedPerSec = 0
        #expect(PoolAutoscaler.offeredConcurrency(load, targetConcurrency: 2) == 2)
        load.inFlight = 0
        load.queueDepth = 0
        load.servedPerSec = 0
        #expect(PoolAutoscaler.offeredConcurrency(load, targetConcurrency: 2) == 0)
    }

    @Test("a replica that serves nothing and rejects everything counts as far above its target")
    func rejectingEverything() {
        let load = Load(replicaId: "r1", inFlight: 0, queueDepth: 0, servedPerSec: 0, rejectedPerSec: 50)
        #expect(PoolAutoscaler.offeredConcurrency(load, targetConcurrency: 2) >= 100)
    }
}

/// Scale-downs wait one stable window after a scale-up.
@Suite("Autoscale scale-down delay")
struct AutoscaleScaleDownDelayTests {
    @Test("a scale-down right after a scale-up is held; later, or without a scale-up, it goes through")
    func heldAfterScaleUp() {
        #expect(PoolAutoscaler.holdingScaleDown(current: 2, desired: 1, lastScaleUp: 10, now: 11, delay: 6) == 2)
        #expect(PoolAutoscaler.holdingScaleDown(current: 2, desired: 1, lastScaleUp: 10, now: 16, delay: 6) == 1)
        #expect(PoolAutoscaler.holdingScaleDown(current: 2, desired: 1, lastScaleUp: nil, now: 11, delay: 6) == 1)
        #expect(PoolAutoscaler.holdingScaleDown(current: 2, desired: 3, lastScaleUp: 10, now: 11, delay: 6) == 3)
    }
}
