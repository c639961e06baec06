import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/scheduler.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.JoinResponse`: Control plane -> worker on the Join stream.
public struct JoinResponse: WireMessage, Hashable {
    /// The `payload` oneof.
    public enum Payload: Hashable, Sendable {
        case welcome(Welcome)
        case place(PlaceReplica)
        case remove(RemoveReplica)
        case drain(Drain)
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
            name: "JoinResponse",
            unpack: aimass__v1__join_response__unpack,
            free: aimass__v1__join_response__free_unpacked
        ) { c in JoinResponse(c: c) }
    }

    init(c: Aimass__V1__JoinResponse) {
        switch c.payload_case {
        case AIMASS__V1__JOIN_RESPONSE__PAYLOAD_WELCOME:
            payload = c.welcome.map { .welcome(Welcome(c: $0.pointee)) }
        case AIMASS__V1__JOIN_RESPONSE__PAYLOAD_PLACE:
            payload = c.place.map { .place(PlaceReplica(c: $0.pointee)) }
        case AIMASS__V1__JOIN_RESPONSE__PAYLOAD_REMOVE:
            payload = c.remove.map { .remove(RemoveReplica(c: $0.pointee)) }
        case AIMASS__V1__JOIN_RESPONSE__PAYLOAD_DRAIN:
            payload = c.drain.map { .drain(Drain(c: $0.pointee)) }
        default:
            payload = nil
        }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__JoinResponse {
        var message = Aimass__V1__JoinResponse()
        aimass__v1__join_response__init(&message)
        switch payload {
        case .welcome(let value)?:
            message.payload_case = AIMASS__V1__JOIN_RESPONSE__PAYLOAD_WELCOME
            message.welcome = arena.box(value.cStruct(arena))
        case .place(let value)?:
            message.payload_case = AIMASS__V1__JOIN_RESPONSE__PAYLOAD_PLACE
            message.place = arena.box(value.cStruct(arena))
        case .remove(let value)?:
            message.payload_case = AIMASS__V1__JOIN_RESPONSE__PAYLOAD_REMOVE
            message.remove = arena.box(value.cStruct(arena))
        case .drain(let value)?:
            message.payload_case = AIMASS__V1__JOIN_RESPONSE__PAYLOAD_DRAIN
            message.drain = arena.box(value.cStruct(arena))
        case nil:
            message.payload_case = AIMASS__V1__JOIN_RESPONSE__PAYLOAD__NOT_SET
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

/// `aimass.v1.Welcome`: The control plane accepts the worker.
public struct Welcome: WireMessage, Hashable {
    public var workerId: String
    public var leaseMs: Int64

    public init(
        workerId: String = "",
        leaseMs: Int64 = 0
    ) {
        self.workerId = workerId
        self.leaseMs = leaseMs
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Welcome",
            unpack: aimass__v1__welcome__unpack,
            free: aimass__v1__welcome__free_unpacked
        ) { c in Welcome(c: c) }
    }

    init(c: Aimass__V1__Welcome) {
        workerId = ProtobufC.string(c.worker_id)
        leaseMs = c.lease_ms
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__Welcome {
        var message = Aimass__V1__Welcome()
        aimass__v1__welcome__init(&message)
        message.worker_id = arena.string(workerId)
        message.lease_ms = leaseMs
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.PlaceReplica`: Instruction to load a replica.
public struct PlaceReplica: WireMessage, Hashable {
    public var replicaId: String
    public var deploymentId: String
    public var model: String
    public var version: UInt32
    public var sha256: String
    public var sizeBytes: Int64
    public var manifest: [String: String]
    public var resources: Resources?
    public var targetConcurrency: UInt32

    public init(
        replicaId: String = "",
        deploymentId: String = "",
        model: String = "",
        version: UInt32 = 0,
        sha256: String = "",
        sizeBytes: Int64 = 0,
        manifest: [String: String] = [:],
        resources: Resources? = nil,
        targetConcurrency: UInt32 = 0
    ) {
        self.replicaId = replicaId
        self.deploymentId = deploymentId
        self.model = model
        self.version = version
        self.sha256 = sha256
        self.sizeBytes = sizeBytes
        self.manifest = manifest
        self.resources = resources
        self.targetConcurrency = targetConcurrency
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "PlaceReplica",
            unpack: aimass__v1__place_replica__unpack,
            free: aimass__v1__place_replica__free_unpacked
        ) { c in PlaceReplica(c: c) }
    }

    init(c: Aimass__V1__PlaceReplica) {
        replicaId = ProtobufC.string(c.replica_id)
        deploymentId = ProtobufC.string(c.deployment_id)
        model = ProtobufC.string(c.model)
        version = c.version
        sha256 = ProtobufC.string(c.sha256)
        sizeBytes = c.size_bytes
        manifest = cMap(c.manifest, count: c.n_manifest) {
            (ProtobufC.string($0.key), ProtobufC.string($0.value))
        }
        resources = c.resources.map { Resources(c: $0.pointee) }
        targetConcurrency = c.target_concurrency
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__PlaceReplica {
        var message = Aimass__V1__PlaceReplica()
        aimass__v1__place_replica__init(&message)
        message.replica_id = arena.string(replicaId)
        message.deployment_id = arena.string(deploymentId)
        message.model = arena.string(model)
        message.version = version
        message.sha256 = arena.string(sha256)
        message.size_bytes = sizeBytes
        message.n_manifest = manifest.count
        message.manifest = arena.messages(manifest.keys.sorted().map { key in
            var entry = Aimass__V1__PlaceReplica__ManifestEntry()
            aimass__v1__place_replica__manifest_entry__init(&entry)
            entry.key = arena.string(key)
            entry.value = arena.string(manifest[key]!)
            return entry
        })
        message.resources = resources.map { arena.box($0.cStruct(arena)) }
        message.target_concurrency = targetConcurrency
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.RemoveReplica`: Instruction to unload a replica; the worker reports DRAINING (if draining) then
/// REMOVED.
public struct RemoveReplica: WireMessage, Hashable {
    public var replicaId: String
    public var drain: Bool

    public init(
        replicaId: String = "",
        drain: Bool = false
    ) {
        self.replicaId = replicaId
        self.drain = drain
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "RemoveReplica",
            unpack: aimass__v1__remove_replica__unpack,
            free: aimass__v1__remove_replica__free_unpacked
        ) { c in RemoveReplica(c: c) }
    }

    init(c: Aimass__V1__RemoveReplica) {
        replicaId = ProtobufC.string(c.replica_id)
        drain = c.drain != 0
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__RemoveReplica {
        var message = Aimass__V1__RemoveReplica()
        aimass__v1__remove_replica__init(&message)
        message.replica_id = arena.string(replicaId)
        message.drain = drain ? 1 : 0
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.Drain`: Instruction to drain the whole worker: stop accepting new calls (health DRAINING), finish
/// in-flight calls; the control plane then removes its replicas and the worker may leave.
public struct Drain: WireMessage, Hashable {
    public var reason: String

    public init(
        reason: String = ""
    ) {
        self.reason = reason
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Drain",
            unpack: aimass__v1__drain__unpack,
            free: aimass__v1__drain__free_unpacked
        ) { c in Drain(c: c) }
    }

    init(c: Aimass__V1__Drain) {
        reason = ProtobufC.string(c.reason)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__Drain {
        var message = Aimass__V1__Drain()
        aimass__v1__drain__init(&message)
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
