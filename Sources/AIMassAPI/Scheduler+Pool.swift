import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/scheduler.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.GetPoolRequest`: Request of Scheduler.GetPool (no parameters).
public struct GetPoolRequest: WireMessage, Hashable {
    public init() {}

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "GetPoolRequest",
            unpack: aimass__v1__get_pool_request__unpack,
            free: aimass__v1__get_pool_request__free_unpacked
        ) { c in GetPoolRequest(c: c) }
    }

    init(c _: Aimass__V1__GetPoolRequest) {
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__GetPoolRequest {
        var message = Aimass__V1__GetPoolRequest()
        aimass__v1__get_pool_request__init(&message)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.GetPoolResponse`: Result of Scheduler.GetPool.
public struct GetPoolResponse: WireMessage, Hashable {
    public var workers: [Worker]

    public init(
        workers: [Worker] = []
    ) {
        self.workers = workers
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "GetPoolResponse",
            unpack: aimass__v1__get_pool_response__unpack,
            free: aimass__v1__get_pool_response__free_unpacked
        ) { c in GetPoolResponse(c: c) }
    }

    init(c: Aimass__V1__GetPoolResponse) {
        workers = cMessages(c.workers, count: c.n_workers) { Worker(c: $0) }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__GetPoolResponse {
        var message = Aimass__V1__GetPoolResponse()
        aimass__v1__get_pool_response__init(&message)
        message.n_workers = workers.count
        message.workers = arena.messages(workers.map { $0.cStruct(arena) })
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.Capacity`: Capacity of a worker, or the part of it allocated to replicas.
public struct Capacity: WireMessage, Hashable {
    public var cpuMillis: Int64
    public var memoryBytes: Int64
    public var replicaSlots: UInt32

    public init(
        cpuMillis: Int64 = 0,
        memoryBytes: Int64 = 0,
        replicaSlots: UInt32 = 0
    ) {
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
        self.replicaSlots = replicaSlots
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Capacity",
            unpack: aimass__v1__capacity__unpack,
            free: aimass__v1__capacity__free_unpacked
        ) { c in Capacity(c: c) }
    }

    init(c: Aimass__V1__Capacity) {
        cpuMillis = c.cpu_millis
        memoryBytes = c.memory_bytes
        replicaSlots = c.replica_slots
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__Capacity {
        var message = Aimass__V1__Capacity()
        aimass__v1__capacity__init(&message)
        message.cpu_millis = cpuMillis
        message.memory_bytes = memoryBytes
        message.replica_slots = replicaSlots
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.Worker`: A worker of the pool.
public struct Worker: WireMessage, Hashable {
    public var id: String
    public var address: String
    public var capacity: Capacity?
    public var allocated: Capacity?
    public var health: HealthStatus
    public var replicas: [Replica]
    public var load: LoadReport?
    public var joinedAtMs: Int64
    public var lastSeenAtMs: Int64
    public var cordoned: Bool
    public var drainReason: String

    public init(
        id: String = "",
        address: String = "",
        capacity: Capacity? = nil,
        allocated: Capacity? = nil,
        health: HealthStatus = .unspecified,
        replicas: [Replica] = [],
        load: LoadReport? = nil,
        joinedAtMs: Int64 = 0,
        lastSeenAtMs: Int64 = 0,
        cordoned: Bool = false,
        drainReason: String = ""
    ) {
        self.id = id
        self.address = address
        self.capacity = capacity
        self.allocated = allocated
        self.health = health
        self.replicas = replicas
        self.load = load
        self.joinedAtMs = joinedAtMs
        self.lastSeenAtMs = lastSeenAtMs
        self.cordoned = cordoned
        self.drainReason = drainReason
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Worker",
            unpack: aimass__v1__worker__unpack,
            free: aimass__v1__worker__free_unpacked
        ) { c in Worker(c: c) }
    }

    init(c: Aimass__V1__Worker) {
        id = ProtobufC.string(c.id)
        address = ProtobufC.string(c.address)
        capacity = c.capacity.map { Capacity(c: $0.pointee) }
        allocated = c.allocated.map { Capacity(c: $0.pointee) }
        health = HealthStatus(c: c.health)
        replicas = cMessages(c.replicas, count: c.n_replicas) { Replica(c: $0) }
        load = c.load.map { LoadReport(c: $0.pointee) }
        joinedAtMs = c.joined_at_ms
        lastSeenAtMs = c.last_seen_at_ms
        cordoned = c.cordoned != 0
        drainReason = ProtobufC.string(c.drain_reason)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__Worker {
        var message = Aimass__V1__Worker()
        aimass__v1__worker__init(&message)
        message.id = arena.string(id)
        message.address = arena.string(address)
        message.capacity = capacity.map { arena.box($0.cStruct(arena)) }
        message.allocated = allocated.map { arena.box($0.cStruct(arena)) }
        message.health = health.cValue
        message.n_replicas = replicas.count
        message.replicas = arena.messages(replicas.map { $0.cStruct(arena) })
        message.load = load.map { arena.box($0.cStruct(arena)) }
        message.joined_at_ms = joinedAtMs
        message.last_seen_at_ms = lastSeenAtMs
        message.cordoned = cordoned ? 1 : 0
        message.drain_reason = arena.string(drainReason)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.Load`: Load of one replica, or the totals of a worker.
public struct Load: WireMessage, Hashable {
    public var replicaId: String
    public var inFlight: UInt32
    public var queueDepth: UInt32
    public var servedPerSec: Double
    public var rejectedPerSec: Double
    public var latencyEwmaUs: Int64
    public var utilisation: Double

    public init(
        replicaId: String = "",
        inFlight: UInt32 = 0,
        queueDepth: UInt32 = 0,
        servedPerSec: Double = 0,
        rejectedPerSec: Double = 0,
        latencyEwmaUs: Int64 = 0,
        utilisation: Double = 0
    ) {
        self.replicaId = replicaId
        self.inFlight = inFlight
        self.queueDepth = queueDepth
        self.servedPerSec = servedPerSec
        self.rejectedPerSec = rejectedPerSec
        self.latencyEwmaUs = latencyEwmaUs
        self.utilisation = utilisation
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Load",
            unpack: aimass__v1__load__unpack,
            free: aimass__v1__load__free_unpacked
        ) { c in Load(c: c) }
    }

    init(c: Aimass__V1__Load) {
        replicaId = ProtobufC.string(c.replica_id)
        inFlight = c.in_flight
        queueDepth = c.queue_depth
        servedPerSec = c.served_per_sec
        rejectedPerSec = c.rejected_per_sec
        latencyEwmaUs = c.latency_ewma_us
        utilisation = c.utilisation
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__Load {
        var message = Aimass__V1__Load()
        aimass__v1__load__init(&message)
        message.replica_id = arena.string(replicaId)
        message.in_flight = inFlight
        message.queue_depth = queueDepth
        message.served_per_sec = servedPerSec
        message.rejected_per_sec = rejectedPerSec
        message.latency_ewma_us = latencyEwmaUs
        message.utilisation = utilisation
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.LoadReport`: A worker's load report.
public struct LoadReport: WireMessage, Hashable {
    public var workerId: String
    public var reportedAtMs: Int64
    public var total: Load?
    public var replicas: [Load]

    public init(
        workerId: String = "",
        reportedAtMs: Int64 = 0,
        total: Load? = nil,
        replicas: [Load] = []
    ) {
        self.workerId = workerId
        self.reportedAtMs = reportedAtMs
        self.total = total
        self.replicas = replicas
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "LoadReport",
            unpack: aimass__v1__load_report__unpack,
            free: aimass__v1__load_report__free_unpacked
        ) { c in LoadReport(c: c) }
    }

    init(c: Aimass__V1__LoadReport) {
        workerId = ProtobufC.string(c.worker_id)
        reportedAtMs = c.reported_at_ms
        total = c.total.map { Load(c: $0.pointee) }
        replicas = cMessages(c.replicas, count: c.n_replicas) { Load(c: $0) }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__LoadReport {
        var message = Aimass__V1__LoadReport()
        aimass__v1__load_report__init(&message)
        message.worker_id = arena.string(workerId)
        message.reported_at_ms = reportedAtMs
        message.total = total.map { arena.box($0.cStruct(arena)) }
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
