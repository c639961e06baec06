/// The accepted connections of one event loop that have not sent a byte yet, checked for their first bytes: each new
/// one at the next round (a client often speaks a moment after its connection is accepted), then a few at a time,
/// oldest first, with the pause between rounds growing while none of them speaks.
///
/// Why: a connection is watched for input (and its first read handled) only once it has sent something. A client
/// that opens thousands of connections and sends on all of them later otherwise has them all watched while silent,
/// and then all readable at once; NIO handles every event one `epoll_wait` returns in one tick, so 2,047 first reads
/// (the preface answered with the server's SETTINGS, a socket write each) made a tick of 47-58 ms while a ready call
/// on an established connection waited (10,000 idle connections). Checked here, the connections that start being
/// read in a round are at most those that arrived since the last one (which the listener's accepts bound) and
/// ``perCheck`` older ones. HTTP/2 and TLS clients speak first, so a legitimate client is almost never
/// here: with `TCP_DEFER_ACCEPT` the kernel hands over a connection only once its bytes arrived, except when its
/// queues overflow under a connect flood.
///
/// A pure state machine: ``FirstReadGate`` runs the checks and applies them.
struct SilentConnectionQueue<ID: Hashable> {
    /// Older connections (checked at least once) checked in one round.
    let perCheck: Int
    /// The pause after a round in which a connection spoke or arrived, and the longest pause (after rounds in which
    /// none did).
    let shortestPause: Duration
    let longestPause: Duration

    /// Arrived since the last round: all checked in the next one.
    private var recent: [(number: Int, id: ID)] = []
    /// Checked at least once, oldest first, from `head`.
    private var order: [(number: Int, id: ID)] = []
    private var head = 0
    /// Waiting connections, by the number of their live entry in `recent` or `order` (an entry whose number differs
    /// left, and is skipped when reached: leaving costs no search).
    private var waiting: [ID: Int] = [:]
    private var nextNumber = 0
    private var pause: Duration

    init(perCheck: Int, shortestPause: Duration, longestPause: Duration) {
        precondition(perCheck > 0 && shortestPause > .zero && longestPause >= shortestPause)
        self.perCheck = perCheck
        self.shortestPause = shortestPause
        self.longestPause = longestPause
        self.pause = shortestPause
    }

    /// Connections waiting for their first bytes.
    var count: Int { waiting.count }

    /// A silent connection joins; returns the pause within which the next round must run (the caller brings the
    /// round forward when it is due later).
    mutating func arrived(_ id: ID) -> Duration {
        recent.append((number(id), id))
        pause = shortestPause
        return pause
    }

    /// A waiting connection closed.
    mutating func left(_ id: ID) {
        waiting[id] = nil
    }

    /// The connections to check in this round: every recent arrival, then up to ``perCheck`` older ones, oldest
    /// first. Each is out of the queue until ``checked(stillSilent:spoke:)`` puts the silent ones back.
    mutating func round() -> [ID] {
        var due = recent.compactMap { take($0) }
        recent.removeAll(keepingCapacity: recent.count < 4096)
        var older = 0
        while older < perCheck, head < order.count {
            let entry = order[head]
            head += 1
            if let id = take(entry) {
                due.append(id)
                older += 1
            }
        }
        compact()
        return due
    }

    /// The round's outcome: `stillSilent` go to the back of the older ones; returns the pause before the next round,
    /// or `nil` when none waits (the rounds stop until a silent connection arrives).
    mutating func checked(stillSilent: [ID], spoke: Int) -> Duration? {
        for id in stillSilent { order.append((number(id), id)) }
        guard !waiting.isEmpty else { return nil }
        pause = spoke > 0 || !recent.isEmpty ? shortestPause : min(pause * 2, longestPause)
        return pause
    }

    private mutating func number(_ id: ID) -> Int {
        defer { nextNumber &+= 1 }
        waiting[id] = nextNumber
        return nextNumber
    }

    /// The entry's connection if it still waits (and it no longer does).
    private mutating func take(_ entry: (number: Int, id: ID)) -> ID? {
        guard waiting[entry.id] == entry.number else { return nil }
        waiting[entry.id] = nil
        return entry.id
    }

    /// Drops the entries already passed once they are most of the array.
    private mutating func compact() {
        guard head > 64, head * 2 > order.count else { return }
        order.removeFirst(head)
        head = 0
    }
}
