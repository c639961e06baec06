import Testing

@testable import RPCHTTP2

@Suite("ReadAllowance: small reads for new and suspect connections")
struct ReadAllowanceTests {
    @Test("a new connection reads a little for its first turns, then the usual amount")
    func newConnection() {
        var allowance = ReadAllowance()
        #expect(allowance.size == .small)
        var changes: [ReadAllowance.Size?] = []
        for _ in 0..<ReadAllowance.turnsBeforeUsual + 2 { changes.append(allowance.turnEnded(suspect: false)) }
        // One change, at the turn that completes the probation; nothing to apply before or after it.
        #expect(changes == Array(repeating: nil, count: ReadAllowance.turnsBeforeUsual - 1) + [.usual, nil, nil])
        #expect(allowance.size == .usual)
    }

    @Test("a suspect reads a little again, and the usual amount once it no longer offends")
    func suspect() {
        var allowance = ReadAllowance()
        for _ in 0..<ReadAllowance.turnsBeforeUsual { _ = allowance.turnEnded(suspect: false) }
        #expect(allowance.turnEnded(suspect: true) == .small)
        #expect(allowance.turnEnded(suspect: true) == nil)
        #expect(allowance.turnEnded(suspect: false) == .usual)
    }

    @Test("a connection that offends from its first turn never reads the usual amount")
    func offendsAtOnce() {
        var allowance = ReadAllowance()
        for _ in 0..<10 { #expect(allowance.turnEnded(suspect: true) == nil) }
        #expect(allowance.size == .small)
    }
}

@Suite("ConnectionAbuseState: suspects")
struct ConnectionAbuseSuspectTests {
    @Test("a connection is a suspect after a few offences in the window, well before any limit closes it")
    func suspectAfterFewOffences() {
        let now = ContinuousClock.now
        var state = ConnectionAbuseState(limits: AbuseLimits(), now: now)
        for _ in 1..<ConnectionAbuseState.suspectAfter { _ = state.record(.rapidReset, now: now) }
        #expect(!state.isSuspect)
        #expect(state.record(.invalidFrame, now: now) == nil)
        #expect(state.isSuspect)
    }
}
