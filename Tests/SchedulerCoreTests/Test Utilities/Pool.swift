@testable import SchedulerCore

let gib: Int64 = 1 << 30
let mib: Int64 = 1 << 20

func capacity(cpu: Int64, memory: Int64, slots: Int = 8) -> Capacity {
    Capacity(cpuMillis: cpu, memoryBytes: memory, replicaSlots: slots)
}

func spec(
    _ id: DeploymentID,
    version: UInt32 = 1,
    min: Int = 1,
    max: Int? = nil,
    cpu: Int64 = 500,
    memory: Int64 = 512 << 20,
    priority: Int = 0
) -> DeploymentSpec {
    DeploymentSpec(
        id: id, model: id.rawValue.split(separator: "@").first.map(String.init) ?? id.rawValue, version: version,
        minReplicas: min, maxReplicas: max, resources: Resources(cpuMillis: cpu, memoryBytes: memory), priority: priority
    )
}

extension [SchedulerAction] {
    /// (replica, worker) of every `.place` action.
    var placements: [(ReplicaID, WorkerID)] {
        compactMap { if case .place(let r, let w) = $0 { return (r.id, w) } else { return nil } }
    }
    /// (replica, drain) of every `.remove` action.
    var removals: [(ReplicaID, Bool)] {
        compactMap { if case .remove(let r, _, let drain) = $0 { return (r, drain) } else { return nil } }
    }
}

extension SchedulerState {
    /// Drives a replica through downloading, loading and ready, as a worker would.
    mutating func makeReady(_ id: ReplicaID, now: Double) throws -> [SchedulerAction] {
        var actions = try replicaStatus(id, .downloading, now: now)
        actions += try replicaStatus(id, .loading, now: now)
        actions += try replicaStatus(id, .ready, now: now)
        return actions
    }

    /// Acts as the worker for one action: a placed replica goes downloading, loading, ready; a removed one
    /// draining, removed. Returns the actions that follow.
    mutating func carryOut(_ action: SchedulerAction, now: Double) throws -> [SchedulerAction] {
        switch action {
        case .place(let replica, _):
            return try makeReady(replica.id, now: now)
        case .remove(let id, _, _):
            return try replicaStatus(id, .draining, now: now) + replicaStatus(id, .removed, now: now)
        default:
            return []
        }
    }

    /// Acts as every worker: each placed replica becomes ready, each removed one is reported removed, until quiet.
    mutating func settle(_ first: [SchedulerAction], now: Double) throws {
        var queue = first
        while !queue.isEmpty {
            let action = queue.removeFirst()
            switch action {
            case .place(let replica, _): queue += try makeReady(replica.id, now: now)
            case .remove(let id, _, _): queue += try replicaStatus(id, .removed, now: now)
            default: break
            }
        }
    }

    func replicas(on worker: WorkerID) -> [Replica] {
        pool.first { $0.id == worker }?.replicas ?? []
    }
}
