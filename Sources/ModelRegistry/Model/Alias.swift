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

/// An alias's online A/B split: a share of the users that ask for the alias are served by a challenger version.
public struct AliasSplit: Sendable, Hashable {
    /// The alias.
    public var alias: String
    /// The version the alias points at (the champion).
    public var version: Int
    /// The challenger.
    public var challengerVersion: Int
    /// The share of users the challenger serves, 1–100.
    public var percent: Int

    public init(alias: String, version: Int, challengerVersion: Int, percent: Int) {
        self.alias = alias
        self.version = version
        self.challengerVersion = challengerVersion
        self.percent = percent
    }

    /// The version that serves `user` of `model`: the challenger when the user's bucket (a 64-bit FNV-1a hash of
    /// model, alias and user, modulo 100) is under ``percent``. Sticky: the same user always gets the same version.
    public func version(model: String, user: String) -> Int {
        Self.bucket(model: model, alias: self.alias, user: user) < self.percent ? self.challengerVersion : self.version
    }

    /// The user's bucket, 0–99.
    public static func bucket(model: String, alias: String, user: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(model)\u{0}\(alias)\u{0}\(user)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return Int(hash % 100)
    }
}
