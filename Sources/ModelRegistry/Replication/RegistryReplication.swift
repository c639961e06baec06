/// One registry row as it is replicated: its key (`TABLE/PK…`, see ``RegistryRowCodec``) and its encoded values,
/// or `nil` when the row was deleted.
public struct RegistryRowChange: Sendable, Hashable {
    /// `TABLE/PK…`: the table, then each primary-key value (`i42`, `tname%2Fwith%20escapes`), `/`-separated.
    public var key: String
    /// The row's columns in table order, encoded compactly; `nil`: the row was deleted.
    public var value: [UInt8]?

    /// Creates a change.
    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }
}

/// Where the registry hands each write transaction's row changes before it commits (the high-availability control
/// plane writes them to etcd, one etcd transaction per registry transaction).
///
/// ``replicate(_:)`` runs with the registry's lock held, inside the SQLite transaction: if it throws, the
/// transaction rolls back and the registry call fails with the thrown error, so nothing is half-written. It is
/// called only for transactions that changed rows.
public protocol RegistryReplication: Sendable {
    /// Makes `changes` durable where the replicas read them, all or nothing.
    func replicate(_ changes: [RegistryRowChange]) throws(RegistryError)
}
