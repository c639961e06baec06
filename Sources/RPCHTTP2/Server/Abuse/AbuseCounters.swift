import Synchronization

/// Running totals of what a server refused or closed to protect itself, since it started: for metrics and tests.
/// Read them from ``RPCServer/abuseCounters``; each is one relaxed atomic, bumped on the I/O thread.
public final class AbuseCounters: Sendable {
    private let rapidResets = Atomic<Int>(0)
    private let invalidFrames = Atomic<Int>(0)
    private let oversizedHeaderLists = Atomic<Int>(0)
    private let closedForResets = Atomic<Int>(0)
    private let closedForInvalidFrames = Atomic<Int>(0)
    private let closedForOversizedHeaders = Atomic<Int>(0)
    private let closedForHeaderDecoding = Atomic<Int>(0)
    private let evictedConnections = Atomic<Int>(0)

    init() {}

    /// Calls the clients reset before they were answered (counted whether or not the limit was passed).
    public var rapidResetsSeen: Int { rapidResets.load(ordering: .relaxed) }
    /// Frames nghttp2 refused as stream errors.
    public var invalidFramesSeen: Int { invalidFrames.load(ordering: .relaxed) }
    /// Header lists refused at ``ServerConfiguration/maxHeaderListSize`` (answered RESOURCE_EXHAUSTED and reset).
    public var oversizedHeaderListsRefused: Int { oversizedHeaderLists.load(ordering: .relaxed) }
    /// Connections closed with GOAWAY(ENHANCE_YOUR_CALM) because they passed one of the ``AbuseLimits``.
    public var connectionsClosedForAbuse: Int {
        ConnectionAbuseState.Offence.allCases.reduce(0) { $0 + closedCount(for: $1) }
    }
    /// Connections closed for passing the limit named by its GOAWAY debug data (`too_many_resets`, …).
    public func connectionsClosed(for debugData: String) -> Int {
        guard let offence = ConnectionAbuseState.Offence.allCases.first(where: { $0.goAwayDebugData == debugData })
        else { return 0 }
        return closedCount(for: offence)
    }
    /// Idle (or otherwise oldest) connections closed to stay within ``ServerConfiguration/maxConnections``.
    public var connectionsEvicted: Int { evictedConnections.load(ordering: .relaxed) }

    func rapidReset() { rapidResets.add(1, ordering: .relaxed) }
    func invalidFrame() { invalidFrames.add(1, ordering: .relaxed) }
    func oversizedHeaderList() { oversizedHeaderLists.add(1, ordering: .relaxed) }
    func evicted() { evictedConnections.add(1, ordering: .relaxed) }
    func closed(for offence: ConnectionAbuseState.Offence) {
        switch offence {
        case .rapidReset: closedForResets.add(1, ordering: .relaxed)
        case .invalidFrame: closedForInvalidFrames.add(1, ordering: .relaxed)
        case .oversizedHeaderList: closedForOversizedHeaders.add(1, ordering: .relaxed)
        case .headerDecoding: closedForHeaderDecoding.add(1, ordering: .relaxed)
        }
    }

    private func closedCount(for offence: ConnectionAbuseState.Offence) -> Int {
        switch offence {
        case .rapidReset: closedForResets.load(ordering: .relaxed)
        case .invalidFrame: closedForInvalidFrames.load(ordering: .relaxed)
        case .oversizedHeaderList: closedForOversizedHeaders.load(ordering: .relaxed)
        case .headerDecoding: closedForHeaderDecoding.load(ordering: .relaxed)
        }
    }
}
