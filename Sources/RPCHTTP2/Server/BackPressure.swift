/// What a connection does while the server's call gate is saturated: the pure policy behind HTTP/2 back-pressure.
///
/// While the gate reports that it can hold `saturation` gated calls at most (running and queued), each of the
/// server's connections announces `SETTINGS_MAX_CONCURRENT_STREAMS` = its share of that plus ``headroom`` (so that a
/// health check, a registry call, a watch stream or a critical call still fits beside its share of gated calls),
/// and a connection holding its share of gated
/// calls, some of them waiting in the gate's queue, stops reading until that changes. Well-behaved clients then queue
/// calls on their side, where they cost the server nothing, instead of sending calls for the gate to shed; a client
/// that ignores the setting waits in its TCP buffers. When the gate is no longer saturated the configured limit is
/// announced again.
///
/// Why only while some of its calls are queued: a paused connection reads nothing, RST_STREAM and PING included, so
/// a pause must be short. A queued call is admitted, shed or withdrawn within the gate's queue budget; a running call
/// may take any time (a connection whose calls all ran for minutes and paused meanwhile never saw its client cancel
/// them).
struct BackPressure: Sendable, Hashable {
    /// Streams a connection may open beyond its share of the gate's calls.
    static let headroom: UInt32 = 4

    /// The server's configured `SETTINGS_MAX_CONCURRENT_STREAMS`.
    let configuredLimit: UInt32
    /// What this connection announced last.
    private(set) var announcedLimit: UInt32
    /// Whether reading is paused.
    private(set) var readsPaused = false

    init(configuredLimit: UInt32) {
        self.configuredLimit = configuredLimit
        self.announcedLimit = configuredLimit
    }

    /// What to do after an event that may change the picture.
    struct Action: Sendable, Hashable {
        /// A new limit to announce, if any.
        var announce: UInt32?
        /// Reading was paused and may go on now.
        var resumeReading: Bool
    }

    /// Re-evaluates with the gate's `saturation` (`nil`: not saturated), the server's open `connections` and the
    /// gated calls this connection holds (`held`: running or queued at the gate; `queued`: of those, waiting).
    mutating func update(saturation: Int?, connections: Int, held: Int, queued: Int) -> Action {
        let share = saturation.map { UInt32(clamping: max($0 / max(connections, 1), 1)) }
        let limit = share.map { min(configuredLimit, $0.addingReportingOverflow(Self.headroom).partialValue) } ?? configuredLimit
        // Announce a restore at once, a change under saturation only when it halves or doubles (SETTINGS frames cost
        // the peer an acknowledgement each).
        var announce: UInt32?
        if limit != announcedLimit, limit == configuredLimit || limit * 2 <= announcedLimit || limit >= announcedLimit * 2 {
            announce = limit
            announcedLimit = limit
        }
        let wasPaused = readsPaused
        readsPaused = queued > 0 && held >= Int(share ?? .max)
        return Action(announce: announce, resumeReading: wasPaused && !readsPaused)
    }
}
