import AIMassAPI

/// A client's view of the mesh, built from a `Mesh/Watch` stream: the last state it applied and its revision.
///
/// A ``AIMassAPI/Snapshot`` replaces the view; every other state event with a revision above ``revision`` is
/// applied in order, and one at or below it (a duplicate after a resume) is ignored. Load reports update a worker's
/// `load`; heartbeats only move the revision forward.
public struct MeshView: Sendable, Hashable {
    /// The revision of the last event applied (0 before the first snapshot).
    public private(set) var revision: UInt64 = 0
    /// Workers by id, with address, health and latest load.
    public private(set) var workers: [String: Worker] = [:]
    /// Replicas by id, with model and state.
    public private(set) var replicas: [String: Replica] = [:]
    /// Deployments by id.
    public private(set) var deployments: [String: Deployment] = [:]

    /// An empty view at revision 0.
    public init() {}

    /// An empty view that resumes after `revision` (events at or below it are ignored).
    init(revision: UInt64) {
        self.revision = revision
    }

    /// Applies one event of the stream.
    ///
    /// - Returns: false when the event was ignored: a state event the view already holds (revision not above
    ///   ``revision``) or one without a payload.
    @discardableResult
    public mutating func apply(_ event: MeshEvent) -> Bool {
        guard let payload = event.payload else { return false }
        switch payload {
        case .snapshot(let snapshot):
            workers = Dictionary(snapshot.workers.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
            replicas = Dictionary(snapshot.replicas.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
            deployments = Dictionary(snapshot.deployments.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
            revision = event.revision
            return true
        case .loadReported(let report):
            workers[report.workerId]?.load = report
            revision = max(revision, event.revision)
            return true
        case .heartbeat:
            revision = max(revision, event.revision)
            return true
        default:
            guard event.revision > revision else { return false }
            revision = event.revision
            applyStateChange(payload)
            return true
        }
    }

    private mutating func applyStateChange(_ payload: MeshEvent.Payload) {
        switch payload {
        case .workerJoined(let worker):
            workers[worker.id] = worker
        case .workerLeft(let left):
            workers.removeValue(forKey: left.workerId)
            replicas = replicas.filter { $0.value.workerId != left.workerId }
        case .healthChanged(let change):
            workers[change.workerId]?.health = change.health
        case .replicaPlaced(let replica):
            replicas[replica.id] = replica
        case .replicaReady(var replica):
            replica.state = .ready
            replicas[replica.id] = replica
        case .replicaDraining(var replica):
            replica.state = .draining
            replicas[replica.id] = replica
        case .replicaRemoved(let replica):
            replicas.removeValue(forKey: replica.id)
        case .deploymentScaled(let deployment):
            if deployment.state == .deleting {
                deployments.removeValue(forKey: deployment.id)
            } else {
                deployments[deployment.id] = deployment
            }
        case .versionPublished, .aliasMoved, .snapshot, .loadReported, .heartbeat:
            break
        }
    }

    /// Workers that may take a call for `model`: SERVING, holding a READY replica of it; sorted by id.
    public func eligibleWorkers(model: String) -> [Worker] {
        var ids = Set<String>()
        for replica in replicas.values where replica.model == model && replica.state == .ready {
            ids.insert(replica.workerId)
        }
        return ids.compactMap { id in workers[id].flatMap { $0.health == .serving ? $0 : nil } }
            .sorted { $0.id < $1.id }
    }
}

/// Where a call goes: a worker and its `host:port`.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// Id of the worker.
    public var workerId: String
    /// Host part of the worker's address.
    public var host: String
    /// Port of the worker's address.
    public var port: Int

    /// Creates an endpoint.
    public init(workerId: String, host: String, port: Int) {
        self.workerId = workerId
        self.host = host
        self.port = port
    }

    /// The endpoint of a worker; nil when its address is not `host:port`.
    public init?(_ worker: Worker) {
        guard let (host, port) = Endpoint.split(worker.address) else { return nil }
        self.init(workerId: worker.id, host: host, port: port)
    }

    /// Splits `host:port` (the host may be a bracketed IPv6 literal); nil when malformed.
    public static func split(_ address: String) -> (host: String, port: Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (1...65535).contains(port)
        else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        return (host, port)
    }

    /// `worker@host:port`.
    public var description: String { "\(workerId)@\(host):\(port)" }
}
