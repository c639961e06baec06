import ModelRegistry

// The registry core and the API messages both define `Model`, `VersionHeader`, `Role` and `Permission`, and the
// module `ModelRegistry` has a class of the same name, so `ModelRegistry.Model` does not resolve. This file imports
// only the core and names its types for the service files, which import both modules.

/// The core's model (``ModelRegistry/Model``).
typealias DomainModel = Model
/// The core's upload header.
typealias DomainHeader = VersionHeader
/// The core's per-model role.
typealias DomainRole = Role
/// The core's grant of a role.
typealias DomainPermission = Permission
/// The core's user.
typealias DomainUser = User
/// The core's token scope.
typealias DomainTokenScope = TokenScope
/// The core's audit event.
typealias DomainAuditEvent = AuditEvent
/// The registry's alias split (the API's is `AIMassAPI.AliasSplit`).
typealias DomainAliasSplit = AliasSplit
