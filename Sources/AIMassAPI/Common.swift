import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/common.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.VersionSelector`: Chooses one version of a model, by number or by alias.
public struct VersionSelector: WireMessage, Hashable {
    public var number: UInt32
    public var alias: String

    public init(
        number: UInt32 = 0,
        alias: String = ""
    ) {
        self.number = number
        self.alias = alias
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "VersionSelector",
            unpack: aimass__v1__version_selector__unpack,
            free: aimass__v1__version_selector__free_unpacked
        ) { c in VersionSelector(c: c) }
    }

    init(c: Aimass__V1__VersionSelector) {
        number = c.number
        alias = ProtobufC.string(c.alias)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__VersionSelector {
        var message = Aimass__V1__VersionSelector()
        aimass__v1__version_selector__init(&message)
        message.number = number
        message.alias = arena.string(alias)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.SchemaField`: One named, typed field of a model's input or output schema.
public struct SchemaField: WireMessage, Hashable {
    public var name: String
    public var type: String
    public var description: String

    public init(
        name: String = "",
        type: String = "",
        description: String = ""
    ) {
        self.name = name
        self.type = type
        self.description = description
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "SchemaField",
            unpack: aimass__v1__schema_field__unpack,
            free: aimass__v1__schema_field__free_unpacked
        ) { c in SchemaField(c: c) }
    }

    init(c: Aimass__V1__SchemaField) {
        name = ProtobufC.string(c.name)
        type = ProtobufC.string(c.type)
        description = ProtobufC.string(c.description)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__SchemaField {
        var message = Aimass__V1__SchemaField()
        aimass__v1__schema_field__init(&message)
        message.name = arena.string(name)
        message.type = arena.string(type)
        message.description = arena.string(description)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.Resources`: Compute resources of one replica.
public struct Resources: WireMessage, Hashable {
    public var cpuMillis: Int64
    public var memoryBytes: Int64

    public init(
        cpuMillis: Int64 = 0,
        memoryBytes: Int64 = 0
    ) {
        self.cpuMillis = cpuMillis
        self.memoryBytes = memoryBytes
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Resources",
            unpack: aimass__v1__resources__unpack,
            free: aimass__v1__resources__free_unpacked
        ) { c in Resources(c: c) }
    }

    init(c: Aimass__V1__Resources) {
        cpuMillis = c.cpu_millis
        memoryBytes = c.memory_bytes
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__Resources {
        var message = Aimass__V1__Resources()
        aimass__v1__resources__init(&message)
        message.cpu_millis = cpuMillis
        message.memory_bytes = memoryBytes
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.HealthStatus`: Serving health of a worker (and of the endpoints it serves).
public enum HealthStatus: Int32, Sendable, Hashable, CaseIterable {
    case unspecified = 0
    case serving = 1
    case notServing = 2
    case draining = 3

    /// Reads a protobuf-c value; a value this build does not know reads as `.unspecified`.
    init(c: Aimass__V1__HealthStatus) {
        self = HealthStatus(rawValue: Int32(truncatingIfNeeded: c.rawValue)) ?? .unspecified
    }

    var cValue: Aimass__V1__HealthStatus {
        Aimass__V1__HealthStatus(rawValue: .init(truncatingIfNeeded: rawValue))
    }
}
