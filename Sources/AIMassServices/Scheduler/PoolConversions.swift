import AIMassAPI
import RPCCore
import SchedulerCore

// The one place the pool model (SchedulerCore's Worker, Replica, Deployment, LoadReport, …) meets the wire
// (aimass.v1 of scheduler.proto and common.proto). GetPool, GetDeployment and the Mesh stream all convert here, so
// they agree on every field. Times: the pool's are seconds (already moved to Unix time by the caller), the wire's
// Unix milliseconds. Both modules name their types alike, so every type is written with its module.

/// Unix milliseconds of Unix seconds.
func unixMilliseconds(_ seconds: Double) -> Int64 { Int64((seconds * 1000).rounded()) }

extension AIMassAPI.HealthStatus {
    /// The wire value of a worker's health.
    public init(_ status: SchedulerCore.HealthStatus) {
        self = AIMassAPI.HealthStatus(rawValue: Int32(status.rawValue)) ?? .unspecified
    }
}

extension AIMassAPI.ReplicaState {
    /// The wire value of a replica state.
    public init(_ state: SchedulerCore.ReplicaState) {
        self = AIMassAPI.ReplicaState(rawValue: Int32(state.rawValue)) ?? .unspecified
    }
}

extension SchedulerCore.ReplicaState {
    /// The state a worker reports; nil for UNSPECIFIED.
    public init?(_ state: AIMassAPI.ReplicaState) {
        self.init(rawValue: Int(state.rawValue))
    }
}

extension AIMassAPI.DeploymentState {
    /// The wire value of a deployment state.
    public init(_ state: SchedulerCore.DeploymentState) {
        self = AIMassAPI.DeploymentState(rawValue: Int32(state.rawValue)) ?? .unspecified
    }
}

extension AIMassAPI.Capacity {
    /// The message of a capacity.
    public init(_ capacity: SchedulerCore.Capacity) {
        self.init(
            cpuMillis: capacity.cpuMillis, memoryBytes: capacity.memoryBytes,
            replicaSlots: UInt32(clamping: capacity.replicaSlots))
    }
}

extension SchedulerCore.Capacity {
    /// The capacity a worker offers in its hello.
    public init(_ capacity: AIMassAPI.Capacity) {
        self.init(cpuMillis: capacity.cpuMillis, memoryBytes: capacity.memoryBytes, replicaSlots: Int(capacity.replicaSlots))
    }
}

extension AIMassAPI.Resources {
    /// The message of a replica's resources.
    public init(_ resources: SchedulerCore.Resources) {
        self.init(cpuMillis: resources.cpuMillis, memoryBytes: resources.memoryBytes)
    }
}

extension AIMassAPI.VersionSelector {
    /// The message of a version selector.
    public init(_ selector: DeploymentSpec.Selector) {
        self.init(number: selector.number, alias: selector.alias)
    }
}

extension DeploymentSpec.Selector {
    /// The selector of a request.
    public init(_ selector: AIMassAPI.VersionSelector) {
        self.init(number: selector.number, alias: selector.alias)
    }
}

extension AIMassAPI.Load {
    /// The message of a load figure.
    public init(_ load: SchedulerCore.Load) {
        self.init(
            replicaId: load.replicaId, inFlight: load.inFlight, queueDepth: load.queueDepth,
            servedPerSec: load.servedPerSec, rejectedPerSec: load.rejectedPerSec,
            latencyEwmaUs: load.latencyEwmaUs, utilisation: load.utilisation)
    }
}

extension SchedulerCore.Load {
    /// The figure a worker reports (all zero when absent).
    public init(_ load: AIMassAPI.Load?) {
        guard let load else {
            self.init()
            return
        }
        self.init(
            replicaId: load.replicaId, inFlight: load.inFlight, queueDepth: load.queueDepth,
            servedPerSec: load.servedPerSec, rejectedPerSec: load.rejectedPerSec, latencyEwmaUs: load.latencyEwmaUs,
            utilisation: load.utilisation)
    }
}

extension AIMassAPI.LoadReport {
    /// The message of a worker's load report.
    public init(_ report: SchedulerCore.LoadReport) {
        self.init(
            workerId: report.workerId, reportedAtMs: report.reportedAtMs, total: AIMassAPI.Load(report.total),
            replicas: report.replicas.map(AIMassAPI.Load.init))
    }
}

extension SchedulerCore.LoadReport {
    /// The report a worker sent.
    public init(_ report: AIMassAPI.LoadReport) {
        self.init(
            workerId: report.workerId, reportedAtMs: report.reportedAtMs, total: SchedulerCore.Load(report.total),
            replicas: report.replicas.map { SchedulerCore.Load($0) })
    }
}

extension AIMassAPI.Worker {
    /// The message of a worker, its times in Unix seconds (the Mesh's workers have no replicas listed).
    public init(_ worker: SchedulerCore.Worker) {
        self.init(
            id: worker.id.rawValue, address: worker.address, capacity: AIMassAPI.Capacity(worker.capacity),
            allocated: AIMassAPI.Capacity(worker.allocated), health: AIMassAPI.HealthStatus(worker.health),
            replicas: worker.replicas.map(AIMassAPI.Replica.init), load: worker.load.map(AIMassAPI.LoadReport.init),
            joinedAtMs: unixMilliseconds(worker.joinedAt), lastSeenAtMs: unixMilliseconds(worker.lastSeen),
            cordoned: worker.cordoned, drainReason: worker.drainReason)
    }
}

extension AIMassAPI.Replica {
    /// The message of a replica, its time in Unix seconds.
    public init(_ replica: SchedulerCore.Replica) {
        self.init(
            id: replica.id.rawValue, deploymentId: replica.deploymentID.rawValue, model: replica.model,
            version: replica.version, workerId: replica.workerID?.rawValue ?? "",
            state: AIMassAPI.ReplicaState(replica.state), error: replica.error,
            updatedAtMs: unixMilliseconds(replica.updatedAt), epoch: replica.epoch)
    }
}

extension AIMassAPI.Deployment {
    /// The message of a deployment, its times in Unix seconds (the Mesh's deployments have no replicas listed).
    public init(_ deployment: SchedulerCore.Deployment) {
        let spec = deployment.spec
        self.init(
            id: spec.id.rawValue, model: spec.model, version: AIMassAPI.VersionSelector(spec.selector),
            resolvedVersion: spec.version, minReplicas: UInt32(clamping: spec.minReplicas),
            maxReplicas: UInt32(clamping: spec.maxReplicas), desiredReplicas: UInt32(clamping: deployment.desiredReplicas),
            readyReplicas: UInt32(clamping: deployment.readyReplicas), resources: AIMassAPI.Resources(spec.resources),
            priority: Int32(clamping: spec.priority), targetConcurrency: UInt32(clamping: spec.targetConcurrency),
            state: AIMassAPI.DeploymentState(deployment.state), reason: deployment.reason,
            replicas: deployment.replicas.map(AIMassAPI.Replica.init), createdAtMs: unixMilliseconds(deployment.createdAt),
            updatedAtMs: unixMilliseconds(deployment.updatedAt),
            pendingCode: deployment.lacksCapacity ? Int32(StatusCode.resourceExhausted.rawValue) : 0)
    }
}
