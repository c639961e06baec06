public import FoundationEssentials

/// An authenticated caller, obtained from ``ModelRegistry/authenticate(token:)`` (or, for trusted in-process code,
/// ``ModelRegistry/principal(forUser:)``). It cannot be constructed from outside the registry, so a caller cannot
/// forge one.
///
/// Roles and group memberships are not copied into the principal: every check reads them from the database, so a
/// revoked permission applies to the next call. What the token itself limits (its scope, its expiry) is copied.
public struct Principal: Sendable, Hashable, CustomStringConvertible {
    /// The user's name.
    public let userName: String
    /// Whether the user was a global admin when authenticated, through an unscoped token (a scoped token never acts
    /// as an admin).
    public let isAdmin: Bool
    /// The token's id; `nil` for a principal obtained without a token (``ModelRegistry/principal(forUser:)``).
    public let tokenID: Int64?
    /// What the token limits the user to.
    public let scope: TokenScope
    /// When the token stops working; `nil` when it never expires.
    public let expiresAt: Date?
    /// The calls per second the token may make; 0 = no limit (``ModelRegistry/admitRequest(of:)``).
    public let requestsPerSecond: UInt32
    let userID: Int64

    init(
        userID: Int64, userName: String, isAdmin: Bool, tokenID: Int64? = nil, scope: TokenScope = .unrestricted,
        expiresAt: Date? = nil, requestsPerSecond: UInt32 = 0
    ) {
        self.requestsPerSecond = requestsPerSecond
        self.userID = userID
        self.userName = userName
        self.isAdmin = isAdmin && scope.isUnrestricted
        self.tokenID = tokenID
        self.scope = scope
        self.expiresAt = expiresAt
    }

    public var description: String { "user '\(self.userName)'" + (self.isAdmin ? " (admin)" : "") }
}

/// What a token may do at most, whatever its user may: a role ceiling and a set of models. A scoped token never
/// acts as a global admin; on a model outside its set it is as if the model did not exist (NOT_FOUND), as for a
/// model its user cannot read.
public struct TokenScope: Sendable, Hashable, Codable {
    /// The highest role the token exercises on any model; `nil` = the user's own role.
    public var roleCeiling: Role?
    /// The models the token may reach, sorted; empty = every model its user may reach.
    public var models: [String]

    public init(roleCeiling: Role? = nil, models: [String] = []) {
        self.roleCeiling = roleCeiling
        self.models = Array(Set(models)).sorted()
    }

    /// No limit beyond the user's own rights.
    public static let unrestricted = TokenScope()

    public var isUnrestricted: Bool { roleCeiling == nil && models.isEmpty }

    /// Whether a token with this scope may create models: not one capped at reader (creating is a write that makes
    /// its caller the new model's owner), nor one limited to a set of models (the new model would be outside it).
    public var allowsCreatingModels: Bool { models.isEmpty && (roleCeiling.map { $0 >= .writer } ?? true) }

    /// Whether the token may reach `model` at all.
    public func allows(model: String) -> Bool { models.isEmpty || models.contains(model) }

    /// The role the token exercises on `model`, given the role its user holds there.
    func cap(_ role: Role?, model: String) -> Role? {
        guard let role, allows(model: model) else { return nil }
        return roleCeiling.map { min($0, role) } ?? role
    }
}

/// A per-model role. Each role includes the ones below it: reader < writer < owner.
///
/// - reader: get and list the model, its versions and aliases, download, diff, read history.
/// - writer: also update metadata, upload versions, move aliases, set version metrics.
/// - owner: also grant and read permissions, delete the model.
///
/// A global admin (``User/isAdmin``) may do everything on every model.
public enum Role: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible, Codable {
    case reader = 1
    case writer = 2
    case owner = 3

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .reader: "reader"
        case .writer: "writer"
        case .owner: "owner"
        }
    }

    /// Parses `reader`, `writer` or `owner`.
    public init?(name: String) {
        guard let role = Role.allCases.first(where: { $0.description == name }) else { return nil }
        self = role
    }
}

/// Who a permission is granted to: one user, or every member of a group.
public enum Grantee: Sendable, Hashable, CustomStringConvertible {
    case user(String)
    case group(String)

    public var description: String {
        switch self {
        case .user(let name): "user '\(name)'"
        case .group(let name): "group '\(name)'"
        }
    }
}

/// A role granted on one model.
public struct Permission: Sendable, Hashable {
    /// The model the role is granted on.
    public var model: String
    /// Who holds the role.
    public var grantee: Grantee
    /// The role granted.
    public var role: Role
    /// When it was granted.
    public var grantedAt: Date
    /// The user who granted it.
    public var grantedBy: String
}

/// A registry user.
public struct User: Sendable, Hashable {
    /// The unique user name.
    public var name: String
    /// A global admin may do everything, on every model.
    public var isAdmin: Bool
    /// When the user was created.
    public var createdAt: Date
    /// The groups the user belongs to, sorted.
    public var groups: [String]
}

/// A group of users; a role granted to the group applies to each member.
public struct Group: Sendable, Hashable {
    /// The unique group name.
    public var name: String
    /// When the group was created.
    public var createdAt: Date
    /// The members' user names, sorted.
    public var members: [String]
}

/// A newly created API token. ``token`` is the only copy of the plaintext: the registry keeps its SHA-256 only.
public struct IssuedToken: Sendable, Hashable {
    /// The token's id, for listing and revoking without the plaintext.
    public var id: Int64
    /// The user the token authenticates as.
    public var user: String
    /// The secret to present to ``ModelRegistry/authenticate(token:)``.
    public var token: String
}

/// What the registry knows about a token (never the plaintext).
public struct TokenInfo: Sendable, Hashable {
    /// The token's id.
    public var id: Int64
    /// The user it authenticates as.
    public var user: String
    /// The note given at creation.
    public var label: String
    /// When it was created.
    public var createdAt: Date
    /// When it was revoked; `nil` while valid.
    public var revokedAt: Date?
    /// When it stops working; `nil` when it never expires.
    public var expiresAt: Date?
    /// What it is limited to.
    public var scope: TokenScope
    /// When it last authenticated a call (to the second or so: uses are recorded in memory and written in batches);
    /// `nil` if never.
    public var lastUsedAt: Date?
    /// The calls per second it may make; 0 = no limit.
    public var requestsPerSecond: UInt32
}
