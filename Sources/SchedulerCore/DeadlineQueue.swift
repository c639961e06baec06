/// Calls waiting for a slot, served highest priority class first and, within a class, the one due first (the
/// latest time it may still start); ties go first come, first served. Bounded; pure (no lock, no clock).
///
/// ```swift
/// var queue = DeadlineQueue<String>(capacity: 2)
/// _ = queue.insert("late", priority: 1, due: 9)
/// _ = queue.insert("soon", priority: 1, due: 3)
/// queue.popFirst()?.item  // "soon"
/// ```
public struct DeadlineQueue<Item: Sendable>: Sendable {
    /// One waiting call.
    public struct Entry: Sendable {
        /// Unique per queue, in arrival order.
        public let id: UInt64
        /// Priority class (higher first).
        public let priority: Int
        /// The latest time (seconds) it may still start.
        public let due: Double
        /// What the caller keeps with it.
        public let item: Item
    }

    /// The most calls it holds.
    public let capacity: Int
    /// In serving order.
    private var entries: [Entry] = []
    private var nextID: UInt64 = 1

    /// An empty queue holding at most `capacity` calls.
    public init(capacity: Int) {
        self.capacity = max(capacity, 0)
    }

    /// Calls waiting now.
    public var count: Int { entries.count }

    /// Whether no call waits.
    public var isEmpty: Bool { entries.isEmpty }

    /// The call served next.
    public var first: Entry? { entries.first }

    /// Queues a call; `nil` when the queue is full.
    public mutating func insert(_ item: Item, priority: Int, due: Double) -> UInt64? {
        guard entries.count < capacity else { return nil }
        let entry = Entry(id: nextID, priority: priority, due: due, item: item)
        nextID += 1
        // After every entry served before it: higher class, or same class and due no later (so ties stay in order).
        let index = entries.firstIndex { $0.priority < priority || ($0.priority == priority && $0.due > due) } ?? entries.count
        entries.insert(entry, at: index)
        return entry.id
    }

    /// Removes and returns the call served next.
    public mutating func popFirst() -> Entry? {
        entries.isEmpty ? nil : entries.removeFirst()
    }

    /// Removes a call (its caller went away); `nil` when it is not queued.
    public mutating func remove(id: UInt64) -> Entry? {
        guard let index = entries.firstIndex(where: { $0.id == id }) else { return nil }
        return entries.remove(at: index)
    }

    /// Removes and returns every call that is due by `now` (it can no longer start in time), in serving order.
    public mutating func removeDue(now: Double) -> [Entry] {
        guard entries.contains(where: { $0.due <= now }) else { return [] }
        let due = entries.filter { $0.due <= now }
        entries.removeAll { $0.due <= now }
        return due
    }
}
