public import FoundationEssentials

/// A named pointer (`production`, `staging`, …) at one version of a model.
public struct Alias: Sendable, Hashable {
    /// The model's name.
    public var model: String
    /// The alias name.
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
    /// The model's name.
    public var model: String
    /// The alias that moved.
    public var alias: String
    /// The version before the move; `nil` when the alias was created by it.
    public var fromVersion: Int?
    /// The version after the move; `nil` when the move deleted the alias.
    public var toVersion: Int?
    /// When it moved.
    public var at: Date
    /// Who moved it.
    public var by: String
    /// Why, as given by whoever moved it (e.g. `rollback: ndcg dropped`); empty if none was given, and for moves
    /// recorded before schema version 2.
    public var reason: String = ""
}
