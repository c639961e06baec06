import Testing

@testable import RPCHTTP2

@Suite("ConnectionAbuseState: when a connection has done too much")
struct ConnectionAbuseStateTests {
    let start = ContinuousClock.now
    let limits = AbuseLimits(
        window: .seconds(10), maxRapidResets: 3, maxInvalidFrames: 2, maxOversizedHeaderLists: 1,
        maxHeaderBytesDecoded: 1000
    )

    @Test("each offence is allowed up to its limit within a window; one more closes the connection")
    func limitPerOffence() {
        var state = ConnectionAbuseState(limits: limits, now: start)
        for _ in 0..<3 {
            let result = state.record(.rapidReset, now: start)
            #expect(result == nil)
        }
        do {
            let result = state.record(.invalidFrame, now: start)
            #expect(result == nil)
        }
        do {
            let result = state.record(.rapidReset, now: start + .seconds(1))
            #expect(result == .rapidReset)
        }
        #expect(state.offence == .rapidReset)
        // Once decided, nothing more is reported.
        do {
            let result = state.record(.invalidFrame, now: start)
            #expect(result == nil)
        }
        do {
            let result = state.record(.invalidFrame, now: start)
            #expect(result == nil)
        }
    }

    @Test("header lists past twice the limit (HPACK bombs) close the connection after maxHeaderBombs, per window")
    func headerBombs() {
        let limits = AbuseLimits(window: .seconds(10), maxOversizedHeaderLists: 20, maxHeaderBombs: 2)
        var state = ConnectionAbuseState(limits: limits, now: start)
        let first = [state.recordHeaderBomb(now: start), state.recordHeaderBomb(now: start + .seconds(1))]
        #expect(first == [nil, nil])
        #expect(state.recordHeaderBomb(now: start + .seconds(11)) == nil, "a new window")
        #expect(state.recordHeaderBomb(now: start + .seconds(12)) == nil)
        #expect(state.recordHeaderBomb(now: start + .seconds(12)) == .oversizedHeaderList)
        #expect(state.offence == .oversizedHeaderList)
        #expect(state.recordHeaderBomb(now: start + .seconds(12)) == nil, "once decided, nothing more is reported")
    }

    @Test("counts start again when the window has passed")
    func windowRolls() {
        var state = ConnectionAbuseState(limits: limits, now: start)
        do {
            let result = state.record(.oversizedHeaderList, now: start)
            #expect(result == nil)
        }
        do {
            let result = state.record(.oversizedHeaderList, now: start + .seconds(10))
            #expect(result == nil)
        }
        do {
            let result = state.record(.oversizedHeaderList, now: start + .seconds(11))
            #expect(result == .oversizedHeaderList)
        }
    }

    @Test("the header decoding budget is spent per window, the window moving at each header block")
    func headerBudget() {
        var state = ConnectionAbuseState(limits: limits, now: start)
        do {
            let result = state.headerDecoded(size: 600)
            #expect(!result)
        }
        do {
            let result = state.headerDecoded(size: 400)
            #expect(!result)
        }
        state.headerBlockStarted(now: start + .seconds(10))
        do {
            let result = state.headerDecoded(size: 1000)
            #expect(!result)
        }
        do {
            let result = state.headerDecoded(size: 1)
            #expect(result)
        }
        #expect(state.offence == .headerDecoding)
        do {
            let result = state.headerDecoded(size: 1)
            #expect(!result, "reported once")
        }
    }

    @Test("every offence has its own GOAWAY debug data")
    func debugData() {
        let names = Set(ConnectionAbuseState.Offence.allCases.map(\.goAwayDebugData))
        #expect(names.count == ConnectionAbuseState.Offence.allCases.count)
        #expect(names.contains("too_many_resets"))
    }
}

@Suite("ConnectionTable: which connection to close for room")
struct ConnectionTableTests {
    final class Fake {
        let name: String
        var silent: Bool
        var idle: Bool
        var authenticated: Bool
        init(_ name: String, silent: Bool = false, idle: Bool = false, authenticated: Bool = false) {
            self.name = name
            self.silent = silent
            self.idle = idle
            self.authenticated = authenticated
        }
    }

    func table(_ connections: [Fake]) -> ConnectionTable<Fake> {
        var table = ConnectionTable<Fake>()
        for connection in connections { table.insert(connection, id: ObjectIdentifier(connection)) }
        return table
    }

    func choose(_ table: inout ConnectionTable<Fake>, excluding: Fake? = nil) -> String? {
        table.chooseToEvict(
            excluding: excluding.map(ObjectIdentifier.init), silent: \.silent, unauthenticated: { !$0.authenticated },
            idle: \.idle
        )?.name
    }

    @Test("a connection that never carried an authenticated call goes before idle ones of known callers")
    func unauthenticatedBeforeIdle() {
        let all = [
            Fake("known-idle", idle: true, authenticated: true), Fake("known-busy", authenticated: true),
            Fake("anonymous-busy"), Fake("anonymous-idle", idle: true),
        ]
        var connections = table(all)
        let order = (0..<4).map { _ in choose(&connections) }
        #expect(order == ["anonymous-busy", "anonymous-idle", "known-idle", "known-busy"])
    }

    @Test("the oldest silent connection first, even behind older idle ones")
    func silentFirst() {
        let all = [Fake("a", idle: true), Fake("b"), Fake("c", silent: true, idle: true), Fake("d", silent: true, idle: true)]
        var connections = table(all)
        do {
            let result = choose(&connections)
            #expect(result == "c")
        }
        do {
            let result = choose(&connections)
            #expect(result == "d", "a connection already chosen is not chosen again")
        }
        do {
            let result = choose(&connections)
            #expect(result == "a")
        }
        do {
            let result = choose(&connections)
            #expect(result == "b", "with nothing idle left, the oldest")
        }
        do {
            let result = choose(&connections)
            #expect(result == nil)
        }
        #expect(connections.countNotEvicting == 0)
        #expect(connections.count == 4)
    }

    @Test("never the excluded connection; closed connections leave the order")
    func excludedAndRemoved() {
        let all = [Fake("a", silent: true, idle: true), Fake("b", silent: true, idle: true), Fake("c")]
        var connections = table(all)
        connections.remove(id: ObjectIdentifier(all[0]))
        do {
            let result = choose(&connections, excluding: all[1])
            #expect(result == "c")
        }
        connections.remove(id: ObjectIdentifier(all[2]))
        #expect(connections.count == 1)
        #expect(connections.countNotEvicting == 1)
        do {
            let result = choose(&connections, excluding: all[1])
            #expect(result == nil)
        }
    }

    @Test("stays small and in order through many opens and closes")
    func churn() {
        var connections = ConnectionTable<Fake>()
        var open: [Fake] = []
        for index in 0..<10_000 {
            let connection = Fake("\(index)", idle: true)
            connections.insert(connection, id: ObjectIdentifier(connection))
            open.append(connection)
            if open.count > 10 { connections.remove(id: ObjectIdentifier(open.removeFirst())) }
        }
        #expect(connections.count == 10)
        do {
            let result = choose(&connections)
            #expect(result == "9990")
        }
    }
}
