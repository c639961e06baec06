import CAIMassProtos
import RPCCore
import RPCProtobufC

/// The serving status of a service, as `grpc.health.v1` reports it.
public enum ServingStatus: Int32, Sendable, Hashable {
    case unknown = 0
    case serving = 1
    case notServing = 2
    case serviceUnknown = 3
}

/// `grpc.health.v1.HealthCheckRequest`.
public struct HealthCheckRequest: WireMessage, Hashable {
    /// The service asked about; empty for the server as a whole.
    public var service: String

    public init(service: String = "") { self.service = service }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "HealthCheckRequest",
            unpack: grpc__health__v1__health_check_request__unpack,
            free: grpc__health__v1__health_check_request__free_unpacked
        ) { message in HealthCheckRequest(service: ProtobufC.string(message.service)) }
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = Grpc__Health__V1__HealthCheckRequest()
            grpc__health__v1__health_check_request__init(&message)
            if !service.isEmpty { message.service = arena.string(service) }
            return ProtobufC.pack(&message)
        }
    }
}

/// `grpc.health.v1.HealthCheckResponse`.
public struct HealthCheckResponse: WireMessage, Hashable {
    public var status: ServingStatus

    public init(status: ServingStatus) { self.status = status }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "HealthCheckResponse",
            unpack: grpc__health__v1__health_check_response__unpack,
            free: grpc__health__v1__health_check_response__free_unpacked
        ) { message in HealthCheckResponse(c: message) }
    }

    init(c message: Grpc__Health__V1__HealthCheckResponse) {
        status = ServingStatus(rawValue: Int32(bitPattern: message.status.rawValue)) ?? .unknown
    }

    func cStruct() -> Grpc__Health__V1__HealthCheckResponse {
        var message = Grpc__Health__V1__HealthCheckResponse()
        grpc__health__v1__health_check_response__init(&message)
        message.status = Grpc__Health__V1__HealthCheckResponse__ServingStatus(
            rawValue: .init(truncatingIfNeeded: status.rawValue)
        )
        return message
    }

    public func wireBytes() -> [UInt8] {
        var message = cStruct()
        return ProtobufC.pack(&message)
    }
}

/// `grpc.health.v1.HealthListRequest`.
public struct HealthListRequest: WireMessage, Hashable {
    public init() {}

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "HealthListRequest",
            unpack: grpc__health__v1__health_list_request__unpack,
            free: grpc__health__v1__health_list_request__free_unpacked
        ) { _ in HealthListRequest() }
    }

    public func wireBytes() -> [UInt8] { [] }
}

/// `grpc.health.v1.HealthListResponse`: every known service and its status.
public struct HealthListResponse: WireMessage, Hashable {
    public var statuses: [String: ServingStatus]

    public init(statuses: [String: ServingStatus]) { self.statuses = statuses }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "HealthListResponse",
            unpack: grpc__health__v1__health_list_response__unpack,
            free: grpc__health__v1__health_list_response__free_unpacked
        ) { (message) throws(RPCError) in
            var statuses: [String: ServingStatus] = [:]
            let entries = try ProtobufC.repeated(message.statuses, count: message.n_statuses) { (entry) throws(RPCError) in
                (ProtobufC.string(entry.key), entry.value.map { HealthCheckResponse(c: $0.pointee).status } ?? .unknown)
            }
            for (key, value) in entries { statuses[key] = value }
            return HealthListResponse(statuses: statuses)
        }
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = Grpc__Health__V1__HealthListResponse()
            grpc__health__v1__health_list_response__init(&message)
            let entries = statuses.keys.sorted().map { key -> Grpc__Health__V1__HealthListResponse__StatusesEntry in
                var entry = Grpc__Health__V1__HealthListResponse__StatusesEntry()
                grpc__health__v1__health_list_response__statuses_entry__init(&entry)
                entry.key = arena.string(key)
                entry.value = arena.box(HealthCheckResponse(status: statuses[key] ?? .unknown).cStruct())
                return entry
            }
            message.n_statuses = entries.count
            message.statuses = arena.messages(entries)
            return ProtobufC.pack(&message)
        }
    }
}
