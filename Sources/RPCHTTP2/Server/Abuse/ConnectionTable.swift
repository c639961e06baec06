/// A server's open connections in the order they were accepted, and the choice of which to close when there are
/// too many (``ServerConfiguration/maxConnections``).
///
/// A pure value: the server keeps it under its lock; `silent` and `idle` read a connection's activity atomics.
/// Closed connections leave the accept order lazily, so inserting, removing and the usual pick (the oldest
/// connection is silent) are O(1) amortised.
struct ConnectionTable<Connection> {
    private struct Entry {
        let connection: Connection
        let sequence: UInt64
        var evicting = false
    }

    private var entries: [ObjectIdentifier: Entry] = [:]
    /// Accept order; an id counts only while its entry has the same sequence (ids of freed objects are reused).
    private var order: [(id: ObjectIdentifier, sequence: UInt64)] = []
    private var head = 0
    private var nextSequence: UInt64 = 0
    private var evictingCount = 0

    /// Connections open.
    var count: Int { entries.count }
    /// Connections open and not already chosen to make room.
    var countNotEvicting: Int { entries.count - evictingCount }
    /// Every open connection.
    var connections: [Connection] { entries.values.map(\.connection) }

    mutating func insert(_ connection: Connection, id: ObjectIdentifier) {
        nextSequence += 1
        entries[id] = Entry(connection: connection, sequence: nextSequence)
        order.append((id, nextSequence))
    }

    @discardableResult
    mutating func remove(id: ObjectIdentifier) -> Connection? {
        guard let entry = entries.removeValue(forKey: id) else { return nil }
        if entry.evicting { evictingCount -= 1 }
        compactIfSparse()
        return entry.connection
    }

    /// Chooses the connection to close to make room, and marks it so that it is not chosen twice: among the
    /// `scanLimit` oldest not yet chosen, the oldest `silent` one (it never sent a request), else the oldest
    /// `unauthenticated` one (no call of it completed with credentials the server accepted), else the oldest `idle`
    /// one (no call in flight), else the oldest. Never `excluding` (the connection just accepted), if given.
    mutating func chooseToEvict(
        excluding: ObjectIdentifier?,
        scanLimit: Int = 4096,
        silent: (Connection) -> Bool,
        unauthenticated: (Connection) -> Bool,
        idle: (Connection) -> Bool
    ) -> Connection? {
        dropClosedAtHead()
        var firstUnauthenticated: ObjectIdentifier?
        var firstIdle: ObjectIdentifier?
        var oldest: ObjectIdentifier?
        var chosen: ObjectIdentifier?
        var scanned = 0
        var index = head
        while index < order.count, scanned < scanLimit {
            let (id, sequence) = order[index]
            index += 1
            guard id != excluding, let entry = entries[id], entry.sequence == sequence, !entry.evicting else { continue }
            scanned += 1
            if oldest == nil { oldest = id }
            if silent(entry.connection) {
                chosen = id
                break
            }
            if firstUnauthenticated == nil, unauthenticated(entry.connection) { firstUnauthenticated = id }
            if firstIdle == nil, idle(entry.connection) { firstIdle = id }
        }
        guard let victim = chosen ?? firstUnauthenticated ?? firstIdle ?? oldest else { return nil }
        entries[victim]?.evicting = true
        evictingCount += 1
        return entries[victim]?.connection
    }

    private mutating func dropClosedAtHead() {
        while head < order.count {
            let (id, sequence) = order[head]
            if let entry = entries[id], entry.sequence == sequence { break }
            head += 1
        }
    }

    private mutating func compactIfSparse() {
        let live = order.count - head
        guard live > 64, live > 2 * entries.count else { return }
        order = order[head...].filter { entries[$0.id]?.sequence == $0.sequence }
        head = 0
    }
}
