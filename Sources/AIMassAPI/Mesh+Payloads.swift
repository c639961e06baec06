import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/mesh.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.Snapshot`: The whole state at one revision.
public struct Snapshot: WireMessage, Hashable {
    public var reset: Bool
    public var workers: [Worker]
    public var deployments: [Deployment]
    public var replicas: [Replica]

    public init(
        reset: Bool = false,
        workers: [Worker] = [],
        deployments: [Deployment] = [],
        replicas: [Replica] = []
    ) {
        self.reset = reset
        self.workers = workers
        self.deployments = deployments
        self.replicas = replicas
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Snapshot",
            unpack: aimass__v1__snapshot__unpack,
            free: aimass__v1__snapshot__free_unpacked
        ) { c in Snapshot(c: c) }
    }

    init(c: Aimass__V1__Snapshot) {
        reset = c.reset != 0
        workers = cMessages(c.workers, count: c.n_workers) { Worker(c: $0) }
        deployments = cMessages(c.deployments, count: c.n_deployments) { Deployment(c: $0) }
        replicas = cMessages(c.replicas, count: c.n_replicas) { Replica(c: $0) }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__Snapshot {
        var message = Aimass__V1__Snapshot()
        aimass__v1__snapshot__init(&message)
        message.reset = reset ? 1 : 0
        message.n_workers = workers.count
        message.workers = arena.messages(workers.map { $0.cStruct(arena) })
        message.n_deployments = deployments.count
        message.deployments = arena.messages(deployments.map { $0.cStruct(arena) })
        message.n_replicas = replicas.count
        message.replicas = arena.messages(replicas.map { $0.cStruct(arena) })
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.WorkerLeft`: A worker left the pool.
public struct WorkerLeft: WireMessage, Hashable {
    public var workerId: String
    public var reason: String

    public init(
        workerId: String = "",
        reason: String = ""
    ) {
        self.workerId = workerId
        self.reason = reason
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "WorkerLeft",
            unpack: aimass__v1__worker_left__unpack,
            free: aimass__v1__worker_left__free_unpacked
        ) { c in WorkerLeft(c: c) }
    }

    init(c: Aimass__V1__WorkerLeft) {
        workerId = ProtobufC.string(c.worker_id)
        reason = ProtobufC.string(c.reason)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__WorkerLeft {
        var message = Aimass__V1__WorkerLeft()
        aimass__v1__worker_left__init(&message)
        message.worker_id = arena.string(workerId)
        message.reason = arena.string(reason)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.HealthChanged`: A worker's health changed.
public struct HealthChanged: WireMessage, Hashable {
    public var workerId: String
    public var previous: HealthStatus
    public var health: HealthStatus
    public var reason: String

    public init(
        workerId: String = "",
        previous: HealthStatus = .unspecified,
        health: HealthStatus = .unspecified,
        reason: String = ""
    ) {
        self.workerId = workerId
        self.previous = previous
        self.health = health
        self.reason = reason
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "HealthChanged",
            unpack: aimass__v1__health_changed__unpack,
            free: aimass__v1__health_changed__free_unpacked
        ) { c in HealthChanged(c: c) }
    }

    init(c: Aimass__V1__HealthChanged) {
        workerId = ProtobufC.string(c.worker_id)
        previous = HealthStatus(c: c.previous)
        health = HealthStatus(c: c.health)
        reason = ProtobufC.string(c.reason)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__HealthChanged {
        var message = Aimass__V1__HealthChanged()
        aimass__v1__health_changed__init(&message)
        message.worker_id = arena.string(workerId)
        message.previous = previous.cValue
        message.health = health.cValue
        message.reason = arena.string(reason)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.Heartbeat`: Liveness of the stream; carries nothing beyond the MeshEvent envelope.
public struct Heartbeat: WireMessage, Hashable {
    public init() {}

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Heartbeat",
            unpack: aimass__v1__heartbeat__unpack,
            free: aimass__v1__heartbeat__free_unpacked
        ) { c in Heartbeat(c: c) }
    }

    init(c _: Aimass__V1__Heartbeat) {
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__Heartbeat {
        var message = Aimass__V1__Heartbeat()
        aimass__v1__heartbeat__init(&message)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}
