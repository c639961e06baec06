import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/scheduler.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.JoinRequest`: Worker -> control plane on the Join stream.
public struct JoinRequest: WireMessage, Hashable {
    /// The `payload` oneof.
    public enum Payload: Hashable, Sendable {
        case hello(WorkerHello)
        case load(LoadReport)
        case status(ReplicaStatus)
    }

    public var payload: Payload?

    public init(
        payload: Payload? = nil
    ) {
        self.payload = payload
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "JoinRequest",
            unpack: aimass__v1__join_request__unpack,
            free: aimass__v1__join_request__free_unpacked
        ) { c in JoinRequest(c: c) }
    }

    init(c: Aimass__V1__JoinRequest) {
        switch c.payload_case {
        case AIMASS__V1__JOIN_REQUEST__PAYLOAD_HELLO:
            payload = c.hello.map { .hello(WorkerHello(c: $0.pointee)) }
        case AIMASS__V1__JOIN_REQUEST__PAYLOAD_LOAD:
            payload = c.load.map { .load(LoadReport(c: $0.pointee)) }
        case AIMASS__V1__JOIN_REQUEST__PAYLOAD_STATUS:
            payload = c.status.map { .status(ReplicaStatus(c: $0.pointee)) }
        default:
            payload = nil
        }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__JoinRequest {
        var message = Aimass__V1__JoinRequest()
        aimass__v1__join_request__init(&message)
        switch payload {
        case .hello(let value)?:
            message.payload_case = AIMASS__V1__JOIN_REQUEST__PAYLOAD_HELLO
            message.hello = arena.box(value.cStruct(arena))
        case .load(let value)?:
            message.payload_case = AIMASS__V1__JOIN_REQUEST__PAYLOAD_LOAD
            message.load = arena.box(value.cStruct(arena))
        case .status(let value)?:
            message.payload_case = AIMASS__V1__JOIN_REQUEST__PAYLOAD_STATUS
            message.status = arena.box(value.cStruct(arena))
        case nil:
            message.payload_case = AIMASS__V1__JOIN_REQUEST__PAYLOAD__NOT_SET
        }
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.WorkerHello`: A worker introduces itself.
public struct WorkerHello: WireMessage, Hashable {
    public var workerId: String
    public var address: String
    public var capacity: Capacity?
    public var replicas: [ReplicaStatus]

    public init(
        workerId: String = "",
        address: String = "",
        capacity: Capacity? = nil,
        replicas: [ReplicaStatus] = []
    ) {
        self.workerId = workerId
        self.address = address
        self.capacity = capacity
        self.replicas = replicas
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "WorkerHello",
            unpack: aimass__v1__worker_hello__unpack,
            free: aimass__v1__worker_hello__free_unpacked
        ) { c in WorkerHello(c: c) }
    }

    init(c: Aimass__V1__WorkerHello) {
        workerId = ProtobufC.string(c.worker_id)
        address = ProtobufC.string(c.address)
        capacity = c.capacity.map { Capacity(c: $0.pointee) }
        replicas = cMessages(c.replicas, count: c.n_replicas) { ReplicaStatus(c: $0) }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__WorkerHello {
        var message = Aimass__V1__WorkerHello()
        aimass__v1__worker_hello__init(&message)
        message.worker_id = arena.string(workerId)
        message.address = arena.string(address)
        message.capacity = capacity.map { arena.box($0.cStruct(arena)) }
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

/// `aimass.v1.ReplicaStatus`: The state of one replica, as seen by its worker.
public struct ReplicaStatus: WireMessage, Hashable {
    public var replicaId: String
    public var state: ReplicaState
    public var error: String
    public var deploymentId: String
    public var version: UInt32

    public init(
        replicaId: String = "",
        state: ReplicaState = .unspecified,
        error: String = "",
        deploymentId: String = "",
        version: UInt32 = 0
    ) {
        self.replicaId = replicaId
        self.state = state
        self.error = error
        self.deploymentId = deploymentId
        self.version = version
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "ReplicaStatus",
            unpack: aimass__v1__replica_status__unpack,
            free: aimass__v1__replica_status__free_unpacked
        ) { c in ReplicaStatus(c: c) }
    }

    init(c: Aimass__V1__ReplicaStatus) {
        replicaId = ProtobufC.string(c.replica_id)
        state = ReplicaState(c: c.state)
        error = ProtobufC.string(c.error)
        deploymentId = ProtobufC.string(c.deployment_id)
        version = c.version
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__ReplicaStatus {
        var message = Aimass__V1__ReplicaStatus()
        aimass__v1__replica_status__init(&message)
        message.replica_id = arena.string(replicaId)
        message.state = state.cValue
        message.error = arena.string(error)
        message.deployment_id = arena.string(deploymentId)
        message.version = version
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}
