import Synchronization

/// A bounded, short-lived memo of registry answers, valid for one generation of the registry's data.
///
/// The registry bumps its generation (``AccessCache/invalidate()``) at every write to its database, so an entry
/// never outlives the data it was computed from: a lookup whose generation differs from the cache's finds
/// nothing. Entries also expire after ``AccessCache/Configuration/ttl`` (bounding what a write by some other
/// process could leave stale), and the cache never holds more than `capacity` entries.
///
/// Thread-safe: one `Mutex` guards the table, and a lookup holds it only for a dictionary probe.
final class AnswerCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var expires: ContinuousClock.Instant
    }

    private struct Table {
        var generation: UInt64 = 0
        var entries: [Key: Entry] = [:]
    }

    let capacity: Int
    let ttl: Duration
    private let table = Mutex(Table())

    init(capacity: Int, ttl: Duration) {
        self.capacity = max(0, capacity)
        self.ttl = ttl
    }

    /// The number of entries held (expired ones included until they are swept).
    var count: Int { self.table.withLock { $0.entries.count } }

    /// The value stored for `key` at `generation`, if it has not expired.
    func value(for key: Key, generation: UInt64, now: ContinuousClock.Instant) -> Value? {
        self.table.withLock { table -> Value? in
            guard table.generation == generation, let entry = table.entries[key] else { return nil }
            guard entry.expires > now else {
                table.entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    /// Stores `value`, computed from the data of `generation`. A value from an older generation than the
    /// cache's is dropped; a newer generation empties the table first.
    func insert(_ value: Value, for key: Key, generation: UInt64, now: ContinuousClock.Instant) {
        guard self.capacity > 0 else { return }
        self.table.withLock { table in
            if generation > table.generation {
                table.entries.removeAll(keepingCapacity: true)
                table.generation = generation
            }
            guard generation == table.generation else { return }
            if table.entries[key] == nil, table.entries.count >= self.capacity {
                Self.makeRoom(in: &table.entries, capacity: self.capacity, now: now)
            }
            table.entries[key] = Entry(value: value, expires: now + self.ttl)
        }
    }

    /// Drops every entry.
    func removeAll() {
        self.table.withLock { $0.entries.removeAll() }
    }

    /// Frees at least one slot: first every expired entry, and if none had expired, an arbitrary eighth of the
    /// table (dictionary order, which is seeded per process), so a full cache costs one sweep per `capacity / 8`
    /// inserts rather than one per insert.
    private static func makeRoom(in entries: inout [Key: Entry], capacity: Int, now: ContinuousClock.Instant) {
        entries = entries.filter { $0.value.expires > now }
        guard entries.count >= capacity else { return }
        let victims = Array(entries.keys.prefix(max(1, capacity / 8)))
        for key in victims { entries[key] = nil }
    }
}
