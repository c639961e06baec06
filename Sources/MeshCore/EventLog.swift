/// The last `capacity` state-changing events, kept for resume.
///
/// Events must be appended with consecutive revisions (the hub numbers them), so the log finds the events after a
/// revision by index, in O(1) plus the copy.
public struct EventLog: Sendable {
    /// How many events the log keeps.
    public let capacity: Int
    private var storage: [MeshEvent] = []
    /// Index in `storage` of the oldest event once the ring is full.
    private var head = 0

    /// Creates an empty log keeping at most `capacity` events (at least 1).
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        self.storage.reserveCapacity(min(self.capacity, 1 << 16))
    }

    /// Number of events held.
    public var count: Int { self.storage.count }

    /// Revision of the oldest event held; nil when empty.
    public var oldestRevision: UInt64? {
        self.storage.isEmpty ? nil : self.storage[self.head].revision
    }

    /// Revision of the newest event held; nil when empty.
    public var newestRevision: UInt64? {
        guard !self.storage.isEmpty else { return nil }
        return self.storage[(self.head + self.storage.count - 1) % self.storage.count].revision
    }

    /// Appends an event, dropping the oldest when full. Its revision must follow the newest one's.
    public mutating func append(_ event: MeshEvent) {
        precondition(self.newestRevision.map { event.revision == $0 + 1 } ?? true, "revisions must be consecutive")
        if self.storage.count < self.capacity {
            self.storage.append(event)
        } else {
            self.storage[self.head] = event
            self.head = (self.head + 1) % self.capacity
        }
    }

    /// The events with a revision greater than `revision`, oldest first; nil when the log no longer holds (or
    /// never held) all of them, i.e. the caller needs a snapshot. `revision` equal to the newest gives `[]`.
    public func events(after revision: UInt64) -> [MeshEvent]? {
        guard let oldest = self.oldestRevision, let newest = self.newestRevision else { return nil }
        guard revision + 1 >= oldest, revision <= newest else { return nil }
        let skip = Int(revision + 1 - oldest)
        let count = self.storage.count
        var result: [MeshEvent] = []
        result.reserveCapacity(count - skip)
        for offset in skip..<count {
            result.append(self.storage[(self.head + offset) % count])
        }
        return result
    }
}
