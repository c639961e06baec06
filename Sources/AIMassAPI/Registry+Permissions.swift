import CAIMassProtos
import RPCCore
import RPCProtobufC

// Swift values for the messages of proto/aimass/v1/registry.proto, converted to and from protobuf-c
// structs field by field. The .proto file is the reference for every field's meaning. First written
// out by a one-off script from the .proto (not kept); maintain by hand, like RPCHealth/HealthMessages.

/// `aimass.v1.Role`: A role on a model; each role includes the rights of the ones below it.
public enum Role: Int32, Sendable, Hashable, CaseIterable {
    case unspecified = 0
    case none = 1
    case reader = 2
    case writer = 3
    case owner = 4

    /// Reads a protobuf-c value; a value this build does not know reads as `.unspecified`.
    init(c: Aimass__V1__Role) {
        self = Role(rawValue: Int32(truncatingIfNeeded: c.rawValue)) ?? .unspecified
    }

    var cValue: Aimass__V1__Role {
        Aimass__V1__Role(rawValue: .init(truncatingIfNeeded: rawValue))
    }
}

/// `aimass.v1.Permission`: One grant of a role to a principal.
public struct Permission: WireMessage, Hashable {
    public var principal: String
    public var role: Role

    public init(
        principal: String = "",
        role: Role = .unspecified
    ) {
        self.principal = principal
        self.role = role
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "Permission",
            unpack: aimass__v1__permission__unpack,
            free: aimass__v1__permission__free_unpacked
        ) { c in Permission(c: c) }
    }

    init(c: Aimass__V1__Permission) {
        principal = ProtobufC.string(c.principal)
        role = Role(c: c.role)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__Permission {
        var message = Aimass__V1__Permission()
        aimass__v1__permission__init(&message)
        message.principal = arena.string(principal)
        message.role = role.cValue
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.SetPermissionRequest`: Request of ModelRegistry.SetPermission.
public struct SetPermissionRequest: WireMessage, Hashable {
    public var model: String
    public var principal: String
    public var role: Role

    public init(
        model: String = "",
        principal: String = "",
        role: Role = .unspecified
    ) {
        self.model = model
        self.principal = principal
        self.role = role
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "SetPermissionRequest",
            unpack: aimass__v1__set_permission_request__unpack,
            free: aimass__v1__set_permission_request__free_unpacked
        ) { c in SetPermissionRequest(c: c) }
    }

    init(c: Aimass__V1__SetPermissionRequest) {
        model = ProtobufC.string(c.model)
        principal = ProtobufC.string(c.principal)
        role = Role(c: c.role)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__SetPermissionRequest {
        var message = Aimass__V1__SetPermissionRequest()
        aimass__v1__set_permission_request__init(&message)
        message.model = arena.string(model)
        message.principal = arena.string(principal)
        message.role = role.cValue
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.GetPermissionsRequest`: Request of ModelRegistry.GetPermissions.
public struct GetPermissionsRequest: WireMessage, Hashable {
    public var model: String

    public init(
        model: String = ""
    ) {
        self.model = model
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "GetPermissionsRequest",
            unpack: aimass__v1__get_permissions_request__unpack,
            free: aimass__v1__get_permissions_request__free_unpacked
        ) { c in GetPermissionsRequest(c: c) }
    }

    init(c: Aimass__V1__GetPermissionsRequest) {
        model = ProtobufC.string(c.model)
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__GetPermissionsRequest {
        var message = Aimass__V1__GetPermissionsRequest()
        aimass__v1__get_permissions_request__init(&message)
        message.model = arena.string(model)
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}

/// `aimass.v1.PermissionsResponse`: Every grant on a model.
public struct PermissionsResponse: WireMessage, Hashable {
    public var model: String
    public var permissions: [Permission]

    public init(
        model: String = "",
        permissions: [Permission] = []
    ) {
        self.model = model
        self.permissions = permissions
    }

    public init(wireBytes: UnsafeRawBufferPointer) throws(RPCError) {
        self = try ProtobufC.decode(
            wireBytes,
            name: "PermissionsResponse",
            unpack: aimass__v1__permissions_response__unpack,
            free: aimass__v1__permissions_response__free_unpacked
        ) { c in PermissionsResponse(c: c) }
    }

    init(c: Aimass__V1__PermissionsResponse) {
        model = ProtobufC.string(c.model)
        permissions = cMessages(c.permissions, count: c.n_permissions) { Permission(c: $0) }
    }

    func cStruct(_ arena: CArena) -> Aimass__V1__PermissionsResponse {
        var message = Aimass__V1__PermissionsResponse()
        aimass__v1__permissions_response__init(&message)
        message.model = arena.string(model)
        message.n_permissions = permissions.count
        message.permissions = arena.messages(permissions.map { $0.cStruct(arena) })
        return message
    }

    public func wireBytes() -> [UInt8] {
        ProtobufC.encode { arena in
            var message = cStruct(arena)
            return ProtobufC.pack(&message)
        }
    }
}
