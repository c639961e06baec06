import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/registry.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.ChangeKind`: How a field differs between the two versions.
public enum ChangeKind: Int32, Sendable, Hashable, CaseIterable {
    case unspecified = 0
    case added = 1
    case removed = 2
    case changed = 3

    /// Reads a protobuf-c value; a value this build does not know reads as `.unspecified`.
    init(c: Aimass__V1__ChangeKind) {
        self = ChangeKind(rawValue: Int32(truncatingIfNeeded: c.rawValue)) ?? .unspecified
    }

    var cValue: Aimass__V1__ChangeKind {
        Aimass__V1__ChangeKind(rawValue: .init(truncatingIfNeeded: rawValue))
    }
}

/// `aimass.v1.DiffVersionsRequest`: Request of ModelRegistry.DiffVersions.
public struct DiffVersionsRequest: WireMessage, Hashable {
    public var model: String
    public var oldVersion: VersionSelector?
    public var newVersion: VersionSelector?

    public init(
        model: String = "",
        oldVersion: VersionSelector? = nil,
        newVersion: VersionSelector? = nil
    ) {
        self.model = model
        self.oldVersion = oldVersion
        self.newVersion = newVersion
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "DiffVersionsRequest",
            unpack: aimass__v1__diff_versions_request__unpack,
            free: aimass__v1__diff_versions_request__free_unpacked
        ) { c in DiffVersionsRequest(c: c) }
    }

    init(c: Aimass__V1__DiffVersionsRequest) {
        model = ProtobufC.string(c.model)
        oldVersion = c.old_version.map { VersionSelector(c: $0.pointee) }
        newVersion = c.new_version.map { VersionSelector(c: $0.pointee) }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__DiffVersionsRequest {
        var message = Aimass__V1__DiffVersionsRequest()
        aimass__v1__diff_versions_request__init(&message)
        message.model = arena.string(model)
        message.old_version = oldVersion.map { arena.box($0.cStruct(arena)) }
        message.new_version = newVersion.map { arena.box($0.cStruct(arena)) }
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.FieldChange`: One difference between two versions.
public struct FieldChange: WireMessage, Hashable {
    public var field: String
    public var oldValue: String
    public var newValue: String
    public var kind: ChangeKind

    public init(
        field: String = "",
        oldValue: String = "",
        newValue: String = "",
        kind: ChangeKind = .unspecified
    ) {
        self.field = field
        self.oldValue = oldValue
        self.newValue = newValue
        self.kind = kind
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "FieldChange",
            unpack: aimass__v1__field_change__unpack,
            free: aimass__v1__field_change__free_unpacked
        ) { c in FieldChange(c: c) }
    }

    init(c: Aimass__V1__FieldChange) {
        field = ProtobufC.string(c.field)
        oldValue = ProtobufC.string(c.old_value)
        newValue = ProtobufC.string(c.new_value)
        kind = ChangeKind(c: c.kind)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__FieldChange {
        var message = Aimass__V1__FieldChange()
        aimass__v1__field_change__init(&message)
        message.field = arena.string(field)
        message.old_value = arena.string(oldValue)
        message.new_value = arena.string(newValue)
        message.kind = kind.cValue
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.DiffVersionsResponse`: Result of ModelRegistry.DiffVersions.
public struct DiffVersionsResponse: WireMessage, Hashable {
    public var model: String
    public var oldVersion: UInt32
    public var newVersion: UInt32
    public var changes: [FieldChange]

    public init(
        model: String = "",
        oldVersion: UInt32 = 0,
        newVersion: UInt32 = 0,
        changes: [FieldChange] = []
    ) {
        self.model = model
        self.oldVersion = oldVersion
        self.newVersion = newVersion
        self.changes = changes
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "DiffVersionsResponse",
            unpack: aimass__v1__diff_versions_response__unpack,
            free: aimass__v1__diff_versions_response__free_unpacked
        ) { c in DiffVersionsResponse(c: c) }
    }

    init(c: Aimass__V1__DiffVersionsResponse) {
        model = ProtobufC.string(c.model)
        oldVersion = c.old_version
        newVersion = c.new_version
        changes = cMessages(c.changes, count: c.n_changes) { FieldChange(c: $0) }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__DiffVersionsResponse {
        var message = Aimass__V1__DiffVersionsResponse()
        aimass__v1__diff_versions_response__init(&message)
        message.model = arena.string(model)
        message.old_version = oldVersion
        message.new_version = newVersion
        message.n_changes = changes.count
        message.changes = arena.messages(changes.map { $0.cStruct(arena) })
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}
