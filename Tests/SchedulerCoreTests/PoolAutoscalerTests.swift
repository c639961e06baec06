import Testing

@testable import SchedulerCore

/// The pool's autoscaling pass: offered concurrency from load reports in, desired counts out, time passed in.
@Suite("Pool autoscaler")
struct PoolAutoscalerTests {
    static var configuration: Autoscaler.Configuration {
        var configuration = Autoscaler.Configuration.defaults
        configuration.stableWindow = 6
        configuration.panicWindow = 1
        return configuration
    }

    /// One ready replica of `m@1` (min 1, max 4, target 2) on one worker.
    func pool() throws -> (SchedulerState, ReplicaID) {
        var pool = SchedulerState()
        _ = try pool.join("w1", address: "w1:7000", capacity: capacity(cpu: 8000, memory: 16 * gib), now: 0)
        var deploy = spec("m@1", min: 1, max: 4)
        deploy.targetConcurrency = 2
        try pool.settle(try pool.deploy(deploy, now: 0), now: 0)
        let replica = try #require(pool.deployment("m@1")?.replicas.first?.id)
        return (pool, replica)
    }

    func report(_ replica: ReplicaID, inFlight: UInt32, rejected: Double = 0) -> LoadReport {
        LoadReport(
            workerId: "w1", total: Load(inFlight: inFlight),
            replicas: [Load(replicaId: replica.rawValue, inFlight: inFlight, servedPerSec: 100, rejectedPerSec: rejected)])
    }

    @Test("a load report of 8 calls in flight on a target of 2 scales the deployment up to its maximum")
    func scalesUpFromReports() throws {
        var (pool, replica) = try pool()
        var autoscaling = PoolAutoscaler(configuration: Self.configuration)
        try pool.heartbeat("w1", load: report(replica, inFlight: 8), now: 0.5)
        #expect(pool.replicaLoads[replica.rawValue]?.inFlight == 8)
        let changes = autoscaling.evaluate(pool.allDeployments, loads: pool.replicaLoads, now: 0.5)
        #expect(changes == [.init(deployment: "m@1", from: 1, to: 4)])
        #expect(autoscaling.lastScaleUp["m@1"] == 0.5)
        #expect(autoscaling.lastDecisions["m@1"]?.panicking == true)
    }

    @Test("no scale-down within one stable window of a scale-up; after it, the idle deployment shrinks")
    func holdsScaleDown() throws {
        var (pool, replica) = try pool()
        var autoscaling = PoolAutoscaler(configuration: Self.configuration)
        try pool.heartbeat("w1", load: report(replica, inFlight: 8), now: 0.5)
        for change in autoscaling.evaluate(pool.allDeployments, loads: pool.replicaLoads, now: 0.5) {
            try pool.settle(try pool.scale(change.deployment, desiredReplicas: change.to, now: 0.5), now: 0.5)
        }
        #expect(pool.deployment("m@1")?.desiredReplicas == 4)
        var now = 0.5
        var firstScaleDown: Double?
        while now < 20, firstScaleDown == nil {
            now += 0.5
            try pool.heartbeat("w1", load: report(replica, inFlight: 0), now: now)
            for change in autoscaling.evaluate(pool.allDeployments, loads: pool.replicaLoads, now: now) where change.to < change.from {
                firstScaleDown = now
            }
        }
        let scaledDownAt = try #require(firstScaleDown)
        #expect(scaledDownAt - 0.5 >= Self.configuration.stableWindow)
    }

    @Test("a restarted control plane holds scale-downs for one stable window")
    func holdAfterRestart() throws {
        var autoscaling = PoolAutoscaler(configuration: Self.configuration)
        autoscaling.holdScaleDown("m@1", now: 3)
        #expect(autoscaling.lastScaleUp["m@1"] == 3)
        autoscaling.forget("m@1")
        #expect(autoscaling.lastScaleUp["m@1"] == nil)
    }
}
