import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the DrainWorker / UncordonWorker requests of proto/aimass/v1/scheduler.proto, converted to and
// from protobuf-c structs field by field (maintained by hand, like the other Scheduler+*.swift files).

/// `aimass.v1.DrainWorkerRequest`: Request of Scheduler.DrainWorker.
public struct DrainWorkerRequest: WireMessage, Hashable {
    public var workerId: String
    public var reason: String
    public var force: Bool

    public init(
        workerId: String = "",
        reason: String = "",
        force: Bool = false
    ) {
        self.workerId = workerId
        self.reason = reason
        self.force = force
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "DrainWorkerRequest",
            unpack: aimass__v1__drain_worker_request__unpack,
            free: aimass__v1__drain_worker_request__free_unpacked
        ) { c in DrainWorkerRequest(c: c) }
    }

    init(c: Aimass__V1__DrainWorkerRequest) {
        workerId = ProtobufC.string(c.worker_id)
        reason = ProtobufC.string(c.reason)
        force = c.force != 0
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__DrainWorkerRequest {
        var message = Aimass__V1__DrainWorkerRequest()
        aimass__v1__drain_worker_request__init(&message)
        message.worker_id = arena.string(workerId)
        message.reason = arena.string(reason)
        message.force = force ? 1 : 0
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.UncordonWorkerRequest`: Request of Scheduler.UncordonWorker.
public struct UncordonWorkerRequest: WireMessage, Hashable {
    public var workerId: String

    public init(
        workerId: String = ""
    ) {
        self.workerId = workerId
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "UncordonWorkerRequest",
            unpack: aimass__v1__uncordon_worker_request__unpack,
            free: aimass__v1__uncordon_worker_request__free_unpacked
        ) { c in UncordonWorkerRequest(c: c) }
    }

    init(c: Aimass__V1__UncordonWorkerRequest) {
        workerId = ProtobufC.string(c.worker_id)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__UncordonWorkerRequest {
        var message = Aimass__V1__UncordonWorkerRequest()
        aimass__v1__uncordon_worker_request__init(&message)
        message.worker_id = arena.string(workerId)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}
