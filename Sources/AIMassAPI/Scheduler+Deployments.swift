import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/scheduler.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.DeploymentState`: State of a deployment as a whole.
public enum DeploymentState: Int32, Sendable, Hashable, CaseIterable {
    case unspecified = 0
    case pending = 1
    case progressing = 2
    case ready = 3
    case degraded = 4
    case failed = 5
    case deleting = 6

    /// Reads a protobuf-c value; a value this build does not know reads as `.unspecified`.
    init(c: Aimass__V1__DeploymentState) {
        self = DeploymentState(rawValue: Int32(truncatingIfNeeded: c.rawValue)) ?? .unspecified
    }

    var cValue: Aimass__V1__DeploymentState {
        Aimass__V1__DeploymentState(rawValue: .init(truncatingIfNeeded: rawValue))
    }
}

/// `aimass.v1.ReplicaState`: State of one replica.
public enum ReplicaState: Int32, Sendable, Hashable, CaseIterable {
    case unspecified = 0
    case pending = 1
    case downloading = 2
    case loading = 3
    case ready = 4
    case draining = 5
    case removed = 6
    case failed = 7

    /// Reads a protobuf-c value; a value this build does not know reads as `.unspecified`.
    init(c: Aimass__V1__ReplicaState) {
        self = ReplicaState(rawValue: Int32(truncatingIfNeeded: c.rawValue)) ?? .unspecified
    }

    var cValue: Aimass__V1__ReplicaState {
        Aimass__V1__ReplicaState(rawValue: .init(truncatingIfNeeded: rawValue))
    }
}

/// `aimass.v1.Replica`: One replica of a deployment.
public struct Replica: WireMessage, Hashable {
    public var id: String
    public var deploymentId: String
    public var model: String
    public var version: UInt32
    public var workerId: String
    public var state: ReplicaState
    public var error: String
    public var updatedAtMs: Int64

    public init(
        id: String = "",
        deploymentId: String = "",
        model: String = "",
        version: UInt32 = 0,
        workerId: String = "",
        state: ReplicaState = .unspecified,
        error: String = "",
        updatedAtMs: Int64 = 0
    ) {
        self.id = id
        self.deploymentId = deploymentId
        self.model = model
        self.version = version
        self.workerId = workerId
        self.state = state
        self.error = error
        self.updatedAtMs = updatedAtMs
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Replica",
            unpack: aimass__v1__replica__unpack,
            free: aimass__v1__replica__free_unpacked
        ) { c in Replica(c: c) }
    }

    init(c: Aimass__V1__Replica) {
        id = ProtobufC.string(c.id)
        deploymentId = ProtobufC.string(c.deployment_id)
        model = ProtobufC.string(c.model)
        version = c.version
        workerId = ProtobufC.string(c.worker_id)
        state = ReplicaState(c: c.state)
        error = ProtobufC.string(c.error)
        updatedAtMs = c.updated_at_ms
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__Replica {
        var message = Aimass__V1__Replica()
        aimass__v1__replica__init(&message)
        message.id = arena.string(id)
        message.deployment_id = arena.string(deploymentId)
        message.model = arena.string(model)
        message.version = version
        message.worker_id = arena.string(workerId)
        message.state = state.cValue
        message.error = arena.string(error)
        message.updated_at_ms = updatedAtMs
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.Deployment`: A deployment: a model version kept running as replicas on the pool.
public struct Deployment: WireMessage, Hashable {
    public var id: String
    public var model: String
    public var version: VersionSelector?
    public var resolvedVersion: UInt32
    public var minReplicas: UInt32
    public var maxReplicas: UInt32
    public var desiredReplicas: UInt32
    public var readyReplicas: UInt32
    public var resources: Resources?
    public var priority: Int32
    public var targetConcurrency: UInt32
    public var state: DeploymentState
    public var reason: String
    public var replicas: [Replica]
    public var createdAtMs: Int64
    public var updatedAtMs: Int64
    /// Why replicas stay unplaced, as a gRPC status code (8 RESOURCE_EXHAUSTED: no capacity), 0 otherwise.
    public var pendingCode: Int32

    public init(
        id: String = "",
        model: String = "",
        version: VersionSelector? = nil,
        resolvedVersion: UInt32 = 0,
        minReplicas: UInt32 = 0,
        maxReplicas: UInt32 = 0,
        desiredReplicas: UInt32 = 0,
        readyReplicas: UInt32 = 0,
        resources: Resources? = nil,
        priority: Int32 = 0,
        targetConcurrency: UInt32 = 0,
        state: DeploymentState = .unspecified,
        reason: String = "",
        replicas: [Replica] = [],
        createdAtMs: Int64 = 0,
        updatedAtMs: Int64 = 0,
        pendingCode: Int32 = 0
    ) {
        self.id = id
        self.model = model
        self.version = version
        self.resolvedVersion = resolvedVersion
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.desiredReplicas = desiredReplicas
        self.readyReplicas = readyReplicas
        self.resources = resources
        self.priority = priority
        self.targetConcurrency = targetConcurrency
        self.state = state
        self.reason = reason
        self.replicas = replicas
        self.createdAtMs = createdAtMs
        self.updatedAtMs = updatedAtMs
        self.pendingCode = pendingCode
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Deployment",
            unpack: aimass__v1__deployment__unpack,
            free: aimass__v1__deployment__free_unpacked
        ) { c in Deployment(c: c) }
    }

    init(c: Aimass__V1__Deployment) {
        id = ProtobufC.string(c.id)
        model = ProtobufC.string(c.model)
        version = c.version.map { VersionSelector(c: $0.pointee) }
        resolvedVersion = c.resolved_version
        minReplicas = c.min_replicas
        maxReplicas = c.max_replicas
        desiredReplicas = c.desired_replicas
        readyReplicas = c.ready_replicas
        resources = c.resources.map { Resources(c: $0.pointee) }
        priority = c.priority
        targetConcurrency = c.target_concurrency
        state = DeploymentState(c: c.state)
        reason = ProtobufC.string(c.reason)
        replicas = cMessages(c.replicas, count: c.n_replicas) { Replica(c: $0) }
        createdAtMs = c.created_at_ms
        updatedAtMs = c.updated_at_ms
        pendingCode = c.pending_code
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__Deployment {
        var message = Aimass__V1__Deployment()
        aimass__v1__deployment__init(&message)
        message.id = arena.string(id)
        message.model = arena.string(model)
        message.version = version.map { arena.box($0.cStruct(arena)) }
        message.resolved_version = resolvedVersion
        message.min_replicas = minReplicas
        message.max_replicas = maxReplicas
        message.desired_replicas = desiredReplicas
        message.ready_replicas = readyReplicas
        message.resources = resources.map { arena.box($0.cStruct(arena)) }
        message.priority = priority
        message.target_concurrency = targetConcurrency
        message.state = state.cValue
        message.reason = arena.string(reason)
        message.n_replicas = replicas.count
        message.replicas = arena.messages(replicas.map { $0.cStruct(arena) })
        message.created_at_ms = createdAtMs
        message.updated_at_ms = updatedAtMs
        message.pending_code = pendingCode
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}
