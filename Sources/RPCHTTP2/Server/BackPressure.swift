/// When a connection stops reading while the server's call gate is saturated: the pure policy behind read
/// back-pressure.
///
/// While the gate reports that it can hold `saturation` gated calls at most (running and queued), each of the
/// server's connections may hold its share of that; a connection that holds its share, some of it waiting in the
/// gate's queue, stops reading until that changes. Its client's further requests then wait in the client and its TCP
/// buffers, at no cost to the server, instead of arriving to be shed (every shed call is answered, and a client
/// without backoff sends it again at once).
///
/// Why only while some of its calls are queued: a paused connection reads nothing, RST_STREAM and PING included, so
/// a pause must be short. A queued call is admitted, shed or withdrawn within the gate's queue budget; a running call
/// may take any time (a connection whose calls all ran for minutes and paused meanwhile never saw its client cancel
/// them).
///
/// Why not a lower `SETTINGS_MAX_CONCURRENT_STREAMS` as well (tried, not kept): nghttp2 refuses a stream over a limit
/// it has announced before the client acknowledged it, so the requests a client sent meanwhile were refused
/// (REFUSED_STREAM, which grpcio reports as UNAVAILABLE), and with the limit lowered under load grpcio left some
/// calls unanswered until their deadline (40 calls in flight from 8 threads: 94 of 160 timed out, 11 refused; none
/// without it).
struct BackPressure: Sendable, Hashable {
    /// Whether reading is paused.
    private(set) var readsPaused = false

    /// Re-evaluates with the gate's `saturation` (`nil`: not saturated), the server's open `connections` and the
    /// gated calls this connection holds (`held`: running or queued at the gate; `queued`: of those, waiting);
    /// returns whether reading was paused and may go on now.
    mutating func update(saturation: Int?, connections: Int, held: Int, queued: Int) -> Bool {
        let wasPaused = readsPaused
        if let saturation, queued > 0 {
            readsPaused = held >= max(saturation / max(connections, 1), 1)
        } else {
            readsPaused = false
        }
        return wasPaused && !readsPaused
    }
}
