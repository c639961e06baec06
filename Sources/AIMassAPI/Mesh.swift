import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/mesh.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.EventKind`: Kind of a MeshEvent; names the payload it carries.
public enum EventKind: Int32, Sendable, Hashable, CaseIterable {
    case unspecified = 0
    case snapshot = 1
    case workerJoined = 2
    case workerLeft = 3
    case healthChanged = 4
    case loadReported = 5
    case replicaPlaced = 6
    case replicaReady = 7
    case replicaDraining = 8
    case replicaRemoved = 9
    case deploymentScaled = 10
    case versionPublished = 11
    case aliasMoved = 12
    case heartbeat = 13

    /// Reads a protobuf-c value; a value this build does not know reads as `.unspecified`.
    init(c: Aimass__V1__EventKind) {
        self = EventKind(rawValue: Int32(truncatingIfNeeded: c.rawValue)) ?? .unspecified
    }

    var cValue: Aimass__V1__EventKind {
        Aimass__V1__EventKind(rawValue: .init(truncatingIfNeeded: rawValue))
    }
}

/// `aimass.v1.WatchRequest`: Request of Mesh.Watch.
public struct WatchRequest: WireMessage, Hashable {
    public var resumeFromRevision: UInt64
    public var models: [String]
    public var kinds: [EventKind]
    public var heartbeatIntervalMs: UInt32

    public init(
        resumeFromRevision: UInt64 = 0,
        models: [String] = [],
        kinds: [EventKind] = [],
        heartbeatIntervalMs: UInt32 = 0
    ) {
        self.resumeFromRevision = resumeFromRevision
        self.models = models
        self.kinds = kinds
        self.heartbeatIntervalMs = heartbeatIntervalMs
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "WatchRequest",
            unpack: aimass__v1__watch_request__unpack,
            free: aimass__v1__watch_request__free_unpacked
        ) { c in WatchRequest(c: c) }
    }

    init(c: Aimass__V1__WatchRequest) {
        resumeFromRevision = c.resume_from_revision
        models = ProtobufC.strings(c.models, count: c.n_models)
        kinds = ProtobufC.scalars(c.kinds, count: c.n_kinds).map { EventKind(c: $0) }
        heartbeatIntervalMs = c.heartbeat_interval_ms
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__WatchRequest {
        var message = Aimass__V1__WatchRequest()
        aimass__v1__watch_request__init(&message)
        message.resume_from_revision = resumeFromRevision
        message.n_models = models.count
        message.models = arena.strings(models)
        message.n_kinds = kinds.count
        message.kinds = arena.array(kinds.map(\.cValue))
        message.heartbeat_interval_ms = heartbeatIntervalMs
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.MeshEvent`: One message of the Watch stream.
public struct MeshEvent: WireMessage, Hashable {
    /// The `payload` oneof.
    public enum Payload: Hashable, Sendable {
        case snapshot(Snapshot)
        case workerJoined(Worker)
        case workerLeft(WorkerLeft)
        case healthChanged(HealthChanged)
        case loadReported(LoadReport)
        case replicaPlaced(Replica)
        case replicaReady(Replica)
        case replicaDraining(Replica)
        case replicaRemoved(Replica)
        case deploymentScaled(Deployment)
        case versionPublished(Version)
        case aliasMoved(AliasChange)
        case heartbeat(Heartbeat)
    }

    public var revision: UInt64
    public var occurredAtMs: Int64
    public var kind: EventKind
    public var payload: Payload?

    public init(
        revision: UInt64 = 0,
        occurredAtMs: Int64 = 0,
        kind: EventKind = .unspecified,
        payload: Payload? = nil
    ) {
        self.revision = revision
        self.occurredAtMs = occurredAtMs
        self.kind = kind
        self.payload = payload
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "MeshEvent",
            unpack: aimass__v1__mesh_event__unpack,
            free: aimass__v1__mesh_event__free_unpacked
        ) { c in MeshEvent(c: c) }
    }

    init(c: Aimass__V1__MeshEvent) {
        revision = c.revision
        occurredAtMs = c.occurred_at_ms
        kind = EventKind(c: c.kind)
        switch c.payload_case {
        case AIMASS__V1__MESH_EVENT__PAYLOAD_SNAPSHOT:
            payload = c.snapshot.map { .snapshot(Snapshot(c: $0.pointee)) }
        case AIMASS__V1__MESH_EVENT__PAYLOAD_WORKER_JOINED:
            payload = c.worker_joined.map { .workerJoined(Worker(c: $0.pointee)) }
        case AIMASS__V1__MESH_EVENT__PAYLOAD_WORKER_LEFT:
            payload = c.worker_left.map { .workerLeft(WorkerLeft(c: $0.pointee)) }
        case AIMASS__V1__MESH_EVENT__PAYLOAD_HEALTH_CHANGED:
            payload = c.health_changed.map { .healthChanged(HealthChanged(c: $0.pointee)) }
        case AIMASS__V1__MESH_EVENT__PAYLOAD_LOAD_REPORTED:
            payload = c.load_reported.map { .loadReported(LoadReport(c: $0.pointee)) }
        case AIMASS__V1__MESH_EVENT__PAYLOAD_REPLICA_PLACED:
            payload = c.replica_placed.map { .replicaPlaced(Replica(c: $0.pointee)) }
        case AIMASS__V1__MESH_EVENT__PAYLOAD_REPLICA_READY:
            payload = c.replica_ready.map { .replicaReady(Replica(c: $0.pointee)) }
        case AIMASS__V1__MESH_EVENT__PAYLOAD_REPLICA_DRAINING:
            payload = c.replica_draining.map { .replicaDraining(Replica(c: $0.pointee)) }
        case AIMASS__V1__MESH_EVENT__PAYLOAD_REPLICA_REMOVED:
            payload = c.replica_removed.map { .replicaRemoved(Replica(c: $0.pointee)) }
        case AIMASS__V1__MESH_EVENT__PAYLOAD_DEPLOYMENT_SCALED:
            payload = c.deployment_scaled.map { .deploymentScaled(Deployment(c: $0.pointee)) }
        case AIMASS__V1__MESH_EVENT__PAYLOAD_VERSION_PUBLISHED:
            payload = c.version_published.map { .versionPublished(Version(c: $0.pointee)) }
        case AIMASS__V1__MESH_EVENT__PAYLOAD_ALIAS_MOVED:
            payload = c.alias_moved.map { .aliasMoved(AliasChange(c: $0.pointee)) }
        case AIMASS__V1__MESH_EVENT__PAYLOAD_HEARTBEAT:
            payload = c.heartbeat.map { .heartbeat(Heartbeat(c: $0.pointee)) }
        default:
            payload = nil
        }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__MeshEvent {
        var message = Aimass__V1__MeshEvent()
        aimass__v1__mesh_event__init(&message)
        message.revision = revision
        message.occurred_at_ms = occurredAtMs
        message.kind = kind.cValue
        switch payload {
        case .snapshot(let value)?:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD_SNAPSHOT
            message.snapshot = arena.box(value.cStruct(arena))
        case .workerJoined(let value)?:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD_WORKER_JOINED
            message.worker_joined = arena.box(value.cStruct(arena))
        case .workerLeft(let value)?:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD_WORKER_LEFT
            message.worker_left = arena.box(value.cStruct(arena))
        case .healthChanged(let value)?:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD_HEALTH_CHANGED
            message.health_changed = arena.box(value.cStruct(arena))
        case .loadReported(let value)?:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD_LOAD_REPORTED
            message.load_reported = arena.box(value.cStruct(arena))
        case .replicaPlaced(let value)?:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD_REPLICA_PLACED
            message.replica_placed = arena.box(value.cStruct(arena))
        case .replicaReady(let value)?:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD_REPLICA_READY
            message.replica_ready = arena.box(value.cStruct(arena))
        case .replicaDraining(let value)?:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD_REPLICA_DRAINING
            message.replica_draining = arena.box(value.cStruct(arena))
        case .replicaRemoved(let value)?:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD_REPLICA_REMOVED
            message.replica_removed = arena.box(value.cStruct(arena))
        case .deploymentScaled(let value)?:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD_DEPLOYMENT_SCALED
            message.deployment_scaled = arena.box(value.cStruct(arena))
        case .versionPublished(let value)?:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD_VERSION_PUBLISHED
            message.version_published = arena.box(value.cStruct(arena))
        case .aliasMoved(let value)?:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD_ALIAS_MOVED
            message.alias_moved = arena.box(value.cStruct(arena))
        case .heartbeat(let value)?:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD_HEARTBEAT
            message.heartbeat = arena.box(value.cStruct(arena))
        case nil:
            message.payload_case = AIMASS__V1__MESH_EVENT__PAYLOAD__NOT_SET
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
