import NIOCore

/// The order in which accepted connections are set up: newest first, a few at a time.
///
/// Accepting is cheap (a system call); setting a connection up (its pipeline, its HTTP/2 session, its SETTINGS) costs
/// the event loop ~100 µs. When thousands of connections arrive at once, accepting them as fast as they come keeps the
/// kernel's listen queue (at most `somaxconn`, 4,096) from overflowing, where a new client's SYN is dropped and waits
/// for the kernel's retransmission (1 s, then 3 s). The accepted connections then wait here rather than in that queue,
/// and are handed to the event loops `window` at a time, newest first: a client that connects during a flood is set up
/// after at most `window` others, not behind everything that arrived before it. Those are mostly the flood's own
/// connections; under a flood that never ends the oldest wait longest, and past `capacity` the oldest is closed.
///
/// A pure state machine: the listener's handler performs its actions.
struct AcceptOrder<Connection> {
    /// How many connections may be handed over and not yet set up.
    let window: Int
    /// How many accepted connections may wait; the oldest is closed past it.
    let capacity: Int
    private var waiting = CircularBuffer<Connection>()
    private(set) var inSetup = 0

    init(window: Int, capacity: Int) {
        precondition(window > 0 && capacity > 0, "AcceptOrder needs a positive window and capacity")
        self.window = window
        self.capacity = capacity
    }

    /// What the listener does next.
    enum Action {
        /// Hand the connection to its event loop to be set up; call ``setUpFinished()`` once that loop has done so.
        case setUp(Connection)
        /// Close the connection unserved: it waited while `capacity` newer ones arrived.
        case close(Connection)
    }

    /// How many accepted connections wait to be set up.
    var waitingCount: Int { waiting.count }

    /// A connection was accepted.
    mutating func accepted(_ connection: Connection) -> [Action] {
        waiting.append(connection)
        var actions: [Action] = []
        if waiting.count > capacity { actions.append(.close(waiting.removeFirst())) }
        releaseNewest(into: &actions)
        return actions
    }

    /// An event loop finished setting up a connection handed to it.
    mutating func setUpFinished() -> [Action] {
        precondition(inSetup > 0, "setUpFinished without a connection in setup")
        inSetup -= 1
        var actions: [Action] = []
        releaseNewest(into: &actions)
        return actions
    }

    /// The listener closed: the waiting connections, to be closed.
    mutating func listenerClosed() -> [Connection] {
        let all = Array(waiting)
        waiting.removeAll()
        return all
    }

    private mutating func releaseNewest(into actions: inout [Action]) {
        while inSetup < window, let newest = waiting.popLast() {
            inSetup += 1
            actions.append(.setUp(newest))
        }
    }
}
