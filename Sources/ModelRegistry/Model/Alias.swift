public import FoundationEssentials

/// A named pointer (`production`, `staging`, …) at one version of a model.
public struct Alias: Sendable, Hashable {
    public var model: String
    public var name: String
    /// The version it points at.
    public var version: Int
    /// When it was last moved.
    public var updatedAt: Date
    /// Who last moved it.
    public var updatedBy: String
}

/// One recorded move of an alias. Rolling back is a move too, so history is append-only.
public struct AliasMove: Sendable, Hashable {
    public var model: String
    public var alias: String
    /// The version before the move; `nil` when the alias was created by it.
    public var fromVersion: Int?
    /// The version after the move; `nil` when the move deleted the alias.
    public var toVersion: Int?
    public var at: Date
    public var by: String
}
