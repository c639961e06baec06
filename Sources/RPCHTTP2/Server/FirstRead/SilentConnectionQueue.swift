/// The accepted connections of one event loop that have not sent a byte yet, checked a few at a time for their
/// first bytes (oldest first), with the pause between checks growing while none of them speaks.
///
/// Why: a connection is watched for input (and its first read handled) only once it has sent something. A client
/// that opens thousands of connections and sends on all of them later otherwise has them all watched while silent,
/// and then all readable at once; NIO handles every event one `epoll_wait` returns in one tick, so 2,047 first reads
/// (the preface answered with the server's SETTINGS, a socket write each) made a tick of 47-58 ms while a ready call
/// on an established connection waited (10,000 idle connections). Checked here, at most ``perCheck`` silent
/// connections start being read per check. HTTP/2 and TLS clients speak first, so a legitimate client is almost never
/// here: with `TCP_DEFER_ACCEPT` the kernel hands over a connection only once its bytes arrived, except when its
/// queues overflow under a connect flood.
///
/// A pure state machine: ``FirstReadGate`` runs the checks and applies them.
struct SilentConnectionQueue<ID: Hashable> {
    /// Connections checked in one round.
    let perCheck: Int
    /// The pause after a round in which a connection spoke, and the longest pause (after rounds in which none did).
    let shortestPause: Duration
    let longestPause: Duration

    private var order: [(number: Int, id: ID)] = []
    private var head = 0
    /// Waiting connections, by the number of their live entry in `order` (an entry whose number differs left).
    private var waiting: [ID: Int] = [:]
    private var nextNumber = 0
    private var pause: Duration
    /// Whether a round is scheduled.
    private(set) var checking = false

    init(perCheck: Int, shortestPause: Duration, longestPause: Duration) {
        precondition(perCheck > 0 && shortestPause > .zero && longestPause >= shortestPause)
        self.perCheck = perCheck
        self.shortestPause = shortestPause
        self.longestPause = longestPause
        self.pause = shortestPause
    }

    /// Connections waiting for their first bytes.
    var count: Int { waiting.count }

    /// A silent connection joins; returns the pause after which to run the first round when none is scheduled.
    mutating func arrived(_ id: ID) -> Duration? {
        enqueue(id)
        guard !checking else { return nil }
        checking = true
        pause = shortestPause
        return pause
    }

    /// A waiting connection closed.
    mutating func left(_ id: ID) {
        waiting[id] = nil
    }

    /// The connections to check in this round, oldest first; each is out of the queue until ``checked(stillSilent:)``
    /// puts the silent ones back.
    mutating func round() -> [ID] {
        var due: [ID] = []
        while due.count < perCheck, head < order.count {
            let (number, id) = order[head]
            head += 1
            guard waiting[id] == number else { continue }
            waiting[id] = nil
            due.append(id)
        }
        compact()
        return due
    }

    /// The round's outcome: `stillSilent` go back to the end of the queue; returns the pause before the next round,
    /// or `nil` when none waits (the checks stop until a silent connection arrives).
    mutating func checked(stillSilent: [ID], spoke: Int) -> Duration? {
        for id in stillSilent { enqueue(id) }
        guard !waiting.isEmpty else {
            checking = false
            return nil
        }
        pause = spoke > 0 ? shortestPause : min(pause * 2, longestPause)
        return pause
    }

    private mutating func enqueue(_ id: ID) {
        waiting[id] = nextNumber
        order.append((nextNumber, id))
        nextNumber &+= 1
    }

    /// Drops the entries already passed once they are most of the array.
    private mutating func compact() {
        guard head > 64, head * 2 > order.count else { return }
        order.removeFirst(head)
        head = 0
    }
}
