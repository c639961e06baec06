import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/registry.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.SetAliasRequest`: Request of ModelRegistry.SetAlias.
public struct SetAliasRequest: WireMessage, Hashable {
    public var model: String
    public var alias: String
    public var version: UInt32
    public var reason: String

    public init(
        model: String = "",
        alias: String = "",
        version: UInt32 = 0,
        reason: String = ""
    ) {
        self.model = model
        self.alias = alias
        self.version = version
        self.reason = reason
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "SetAliasRequest",
            unpack: aimass__v1__set_alias_request__unpack,
            free: aimass__v1__set_alias_request__free_unpacked
        ) { c in SetAliasRequest(c: c) }
    }

    init(c: Aimass__V1__SetAliasRequest) {
        model = ProtobufC.string(c.model)
        alias = ProtobufC.string(c.alias)
        version = c.version
        reason = ProtobufC.string(c.reason)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__SetAliasRequest {
        var message = Aimass__V1__SetAliasRequest()
        aimass__v1__set_alias_request__init(&message)
        message.model = arena.string(model)
        message.alias = arena.string(alias)
        message.version = version
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

/// `aimass.v1.SetAliasResponse`: Result of ModelRegistry.SetAlias.
public struct SetAliasResponse: WireMessage, Hashable {
    public var change: AliasChange?

    public init(
        change: AliasChange? = nil
    ) {
        self.change = change
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "SetAliasResponse",
            unpack: aimass__v1__set_alias_response__unpack,
            free: aimass__v1__set_alias_response__free_unpacked
        ) { c in SetAliasResponse(c: c) }
    }

    init(c: Aimass__V1__SetAliasResponse) {
        change = c.change.map { AliasChange(c: $0.pointee) }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__SetAliasResponse {
        var message = Aimass__V1__SetAliasResponse()
        aimass__v1__set_alias_response__init(&message)
        message.change = change.map { arena.box($0.cStruct(arena)) }
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.AliasChange`: One move of an alias.
public struct AliasChange: WireMessage, Hashable {
    public var model: String
    public var alias: String
    public var previousVersion: UInt32
    public var version: UInt32
    public var principal: String
    public var changedAtMs: Int64
    public var reason: String

    public init(
        model: String = "",
        alias: String = "",
        previousVersion: UInt32 = 0,
        version: UInt32 = 0,
        principal: String = "",
        changedAtMs: Int64 = 0,
        reason: String = ""
    ) {
        self.model = model
        self.alias = alias
        self.previousVersion = previousVersion
        self.version = version
        self.principal = principal
        self.changedAtMs = changedAtMs
        self.reason = reason
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "AliasChange",
            unpack: aimass__v1__alias_change__unpack,
            free: aimass__v1__alias_change__free_unpacked
        ) { c in AliasChange(c: c) }
    }

    init(c: Aimass__V1__AliasChange) {
        model = ProtobufC.string(c.model)
        alias = ProtobufC.string(c.alias)
        previousVersion = c.previous_version
        version = c.version
        principal = ProtobufC.string(c.principal)
        changedAtMs = c.changed_at_ms
        reason = ProtobufC.string(c.reason)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__AliasChange {
        var message = Aimass__V1__AliasChange()
        aimass__v1__alias_change__init(&message)
        message.model = arena.string(model)
        message.alias = arena.string(alias)
        message.previous_version = previousVersion
        message.version = version
        message.principal = arena.string(principal)
        message.changed_at_ms = changedAtMs
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

/// `aimass.v1.ListAliasHistoryRequest`: Request of ModelRegistry.ListAliasHistory.
public struct ListAliasHistoryRequest: WireMessage, Hashable {
    public var model: String
    public var alias: String
    public var pageSize: UInt32
    public var pageToken: String

    public init(
        model: String = "",
        alias: String = "",
        pageSize: UInt32 = 0,
        pageToken: String = ""
    ) {
        self.model = model
        self.alias = alias
        self.pageSize = pageSize
        self.pageToken = pageToken
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "ListAliasHistoryRequest",
            unpack: aimass__v1__list_alias_history_request__unpack,
            free: aimass__v1__list_alias_history_request__free_unpacked
        ) { c in ListAliasHistoryRequest(c: c) }
    }

    init(c: Aimass__V1__ListAliasHistoryRequest) {
        model = ProtobufC.string(c.model)
        alias = ProtobufC.string(c.alias)
        pageSize = c.page_size
        pageToken = ProtobufC.string(c.page_token)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__ListAliasHistoryRequest {
        var message = Aimass__V1__ListAliasHistoryRequest()
        aimass__v1__list_alias_history_request__init(&message)
        message.model = arena.string(model)
        message.alias = arena.string(alias)
        message.page_size = pageSize
        message.page_token = arena.string(pageToken)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.ListAliasHistoryResponse`: One page of ModelRegistry.ListAliasHistory.
public struct ListAliasHistoryResponse: WireMessage, Hashable {
    public var changes: [AliasChange]
    public var nextPageToken: String

    public init(
        changes: [AliasChange] = [],
        nextPageToken: String = ""
    ) {
        self.changes = changes
        self.nextPageToken = nextPageToken
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "ListAliasHistoryResponse",
            unpack: aimass__v1__list_alias_history_response__unpack,
            free: aimass__v1__list_alias_history_response__free_unpacked
        ) { c in ListAliasHistoryResponse(c: c) }
    }

    init(c: Aimass__V1__ListAliasHistoryResponse) {
        changes = cMessages(c.changes, count: c.n_changes) { AliasChange(c: $0) }
        nextPageToken = ProtobufC.string(c.next_page_token)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__ListAliasHistoryResponse {
        var message = Aimass__V1__ListAliasHistoryResponse()
        aimass__v1__list_alias_history_response__init(&message)
        message.n_changes = changes.count
        message.changes = arena.messages(changes.map { $0.cStruct(arena) })
        message.next_page_token = arena.string(nextPageToken)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}
