import AIMassAPI
import Foundation
import ModelRegistry
import RPCCore
import SchedulerCore

/// Desired state on disk (``ControlPlaneStore``): one JSON value per deployment (`deployment/ID`) and per known
/// worker (`worker/ID`: its cordon), and the counters that must not go backwards (`counter/next_replica_serial`,
/// `counter/next_worker`, `counter/epoch`: the fencing epoch, one more at every start; the Mesh hub keeps
/// `counter/mesh_revision`).
extension SchedulerController {
    /// What is persisted, compared with the last write to find the changes.
    struct Durable: Equatable, Sendable {
        var desired = DesiredState()
        var nextWorker = 1
    }

    struct StoredDeployment: Codable, Equatable {
        var model: String
        var version: UInt32
        var minReplicas: Int
        var maxReplicas: Int
        var cpuMillis: Int64
        var memoryBytes: Int64
        var priority: Int
        var targetConcurrency: Int
        var desired: Int
        var deleting: Bool
        /// The selector deployed with: a pinned number, or the alias followed.
        var selectorNumber: UInt32
        var selectorAlias: String
    }

    struct StoredWorker: Codable, Equatable {
        var cordoned: Bool
        var drainReason: String
        var drained: Bool
    }

    enum Namespace {
        static let deployment = "deployment"
        static let worker = "worker"
        static let counter = "counter"
    }

    /// The counter key under which the Mesh hub reserves revisions.
    public static let meshRevisionKey = "mesh_revision"

    static func durable(_ s: State) -> Durable {
        let desired = s.core.desiredState
        return Durable(desired: desired, nextWorker: s.nextWorker)
    }

    /// Writes what changed in `s` since the last write (nothing without a store). On failure the last written
    /// state is kept, so the next call writes the difference again.
    ///
    /// - Throws: ``RPCError`` `UNAVAILABLE` when the store cannot be written.
    func persist(_ s: inout State) throws(RPCError) {
        guard let store else { return }
        let now = Self.durable(s)
        guard now != s.persisted else { return }
        do {
            try store.apply(Self.changes(from: s.persisted, to: now))
            s.persisted = now
        } catch {
            throw RPCError(code: .unavailable, message: "cannot persist the scheduler's desired state: \(error)")
        }
    }

    /// ``persist(_:)`` for paths that cannot refuse (worker streams, the tick): a failure is logged and retried
    /// with the next change.
    func persistOrLog(_ s: inout State) {
        do {
            try persist(&s)
        } catch {
            logger.error("desired state not persisted; retrying with the next change", metadata: ["error": "\(error)"])
        }
    }

    static func changes(from old: Durable, to new: Durable) -> [ControlPlaneStore.Change] {
        var changes: [ControlPlaneStore.Change] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func encode(_ value: some Encodable) -> String? {
            (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
        }
        let ids = Set(old.desired.deployments.keys).union(new.desired.deployments.keys)
        for id in ids.sorted() {
            let before = old.desired.deployments[id].map(stored)
            let after = new.desired.deployments[id].map(stored)
            guard before != after else { continue }
            changes.append(.init(namespace: Namespace.deployment, key: id.rawValue, value: after.flatMap(encode)))
        }
        let workers = Set(old.desired.workers.keys).union(new.desired.workers.keys)
        for id in workers.sorted() {
            let before = old.desired.workers[id].map(stored)
            let after = new.desired.workers[id].map(stored)
            guard before != after else { continue }
            changes.append(.init(namespace: Namespace.worker, key: id.rawValue, value: after.flatMap(encode)))
        }
        if old.desired.nextReplicaSerial != new.desired.nextReplicaSerial {
            changes.append(
                .init(namespace: Namespace.counter, key: "next_replica_serial", value: "\(new.desired.nextReplicaSerial)"))
        }
        if old.nextWorker != new.nextWorker {
            changes.append(.init(namespace: Namespace.counter, key: "next_worker", value: "\(new.nextWorker)"))
        }
        return changes
    }

    static func stored(_ entry: DesiredState.DeploymentEntry) -> StoredDeployment {
        let spec = entry.spec
        return StoredDeployment(
            model: spec.model, version: spec.version, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas,
            cpuMillis: spec.resources.cpuMillis, memoryBytes: spec.resources.memoryBytes, priority: spec.priority,
            targetConcurrency: spec.targetConcurrency, desired: entry.desired, deleting: entry.deleting,
            selectorNumber: spec.selector.number, selectorAlias: spec.selector.alias
        )
    }

    static func stored(_ entry: DesiredState.WorkerEntry) -> StoredWorker {
        StoredWorker(cordoned: entry.cordoned, drainReason: entry.drainReason, drained: entry.drained)
    }

    /// Decodes the store's entries (an entry that does not decode is an error: the file is ours alone).
    static func decode(_ entries: [String: [String: String]]) throws -> Durable {
        let decoder = JSONDecoder()
        var durable = Durable()
        for (key, value) in entries[Namespace.deployment] ?? [:] {
            let stored = try decoder.decode(StoredDeployment.self, from: Data(value.utf8))
            let id = DeploymentID(key)
            let spec = DeploymentSpec(
                id: id, model: stored.model, version: stored.version, minReplicas: stored.minReplicas,
                maxReplicas: stored.maxReplicas,
                resources: SchedulerCore.Resources(cpuMillis: stored.cpuMillis, memoryBytes: stored.memoryBytes),
                priority: stored.priority, targetConcurrency: stored.targetConcurrency,
                selector: DeploymentSpec.Selector(number: stored.selectorNumber, alias: stored.selectorAlias)
            )
            durable.desired.deployments[id] = .init(spec: spec, desired: stored.desired, deleting: stored.deleting)
        }
        for (key, value) in entries[Namespace.worker] ?? [:] {
            let stored = try decoder.decode(StoredWorker.self, from: Data(value.utf8))
            let id = WorkerID(key)
            durable.desired.workers[id] = .init(
                id: id, cordoned: stored.cordoned, drainReason: stored.drainReason, drained: stored.drained
            )
        }
        let counters = entries[Namespace.counter] ?? [:]
        durable.desired.nextReplicaSerial = counters["next_replica_serial"].flatMap { UInt64($0) } ?? 1
        durable.nextWorker = counters["next_worker"].flatMap { Int($0) } ?? 1
        return durable
    }

    /// Loads the desired state persisted by a previous run (call once, before ``start()``): deployments come back
    /// with their selectors and replica counts, and placement is held until every worker known before rejoined or
    /// ``Configuration/restartGrace`` passed, so the replicas they still hold are adopted under the same ids.
    ///
    /// - Returns: the number of deployments restored.
    /// - Throws: the store's error, or a decoding error for an entry that is not ours.
    @discardableResult
    public func restore() throws -> Int {
        guard let store else { return 0 }
        let entries = try store.load()
        let durable = try Self.decode(entries)
        // A new incarnation: above the last run's and at least the start time (so a lost or older store cannot
        // take it back below an epoch a worker saw), written before anything is placed under it.
        let last = entries[Namespace.counter]?["epoch"].flatMap { UInt64($0) } ?? 0
        let epoch = max(last + 1, state.withLock { $0.core.epoch })
        try store.apply([.init(namespace: Namespace.counter, key: "epoch", value: "\(epoch)")])
        var artifacts: [String: ArtifactInfo] = [:]
        for entry in durable.desired.deployments.values {
            do {
                artifacts[Self.key(entry.spec.model, entry.spec.version)] = try lookup(entry.spec.model, entry.spec.version)
            } catch {
                logger.warning(
                    "restored deployment's version cannot be read; its new replicas will fail",
                    metadata: ["deployment": "\(entry.spec.id)", "error": "\(error)"]
                )
            }
        }
        let grace = configuration.restartGrace
        try state.withLock { s in
            let now = MonotonicTime.now()
            s.core.epoch = epoch
            try s.core.restore(durable.desired, holdUntil: now + grace, now: now)
            s.artifacts.merge(artifacts) { $1 }
            s.nextWorker = max(s.nextWorker, durable.nextWorker)
            // The autoscaler starts without history: no scale-down for one stable window.
            for id in durable.desired.deployments.keys { s.autoscaling.holdScaleDown(id, now: now) }
            s.persisted = durable
            publishChanges(&s)
        }
        if !durable.desired.deployments.isEmpty || !durable.desired.workers.isEmpty {
            logger.info(
                "restored desired state; holding placement until the workers rejoin",
                metadata: [
                    "deployments": "\(durable.desired.deployments.count)",
                    "awaited_workers": "\(durable.desired.workers.count)", "grace_s": "\(grace)",
                ]
            )
        }
        return durable.desired.deployments.count
    }
}
