import Testing

@testable import RPCHTTP2

@Suite("Connection management: the shared tick and what each tick decides")
struct ConnectionTickerTests {
    typealias Management = ServerConfiguration.ConnectionManagement

    @Test("the tick is a quarter of the shortest limit, between 50 ms and 30 s; none without limits")
    func interval() {
        #expect(ConnectionTicker.interval(for: .defaults) == .seconds(30))  // gRPC's 2-hour keepalive
        #expect(ConnectionTicker.interval(for: Management(keepaliveInterval: nil, maxIdle: .seconds(1))) == .milliseconds(250))
        #expect(ConnectionTicker.interval(for: Management(keepaliveInterval: .milliseconds(100))) == .milliseconds(50))
        #expect(ConnectionTicker.interval(for: Management(keepaliveInterval: nil)) == nil)
    }

    @Test("a connection that reads nothing for the keepalive interval is pinged, and closed when the ping goes unanswered")
    func keepalive() {
        var state = ConnectionManagementState(
            configuration: Management(keepaliveInterval: .seconds(10), keepaliveTimeout: .seconds(20)))
        let start = ContinuousClock.now
        #expect(state.tick(now: start + .seconds(5)) == .none)
        #expect(state.tick(now: start + .seconds(11)) == .sendPing)
        #expect(state.tick(now: start + .seconds(12)) == .none)  // one ping at a time
        #expect(state.tick(now: start + .seconds(31)) == .close)
    }

    @Test("an acknowledged ping and a read start the keepalive interval again")
    func keepaliveAnswered() {
        var state = ConnectionManagementState(configuration: Management(keepaliveInterval: .seconds(10)))
        let start = ContinuousClock.now
        #expect(state.tick(now: start + .seconds(11)) == .sendPing)
        state.pingAcknowledged()
        state.readHappened()
        #expect(state.tick(now: .now + .seconds(5)) == .none)
    }

    @Test("an idle connection is drained after maxIdle, not while a call is open")
    func idle() {
        var state = ConnectionManagementState(configuration: Management(keepaliveInterval: nil, maxIdle: .seconds(5)))
        let start = ContinuousClock.now
        state.streamOpened()
        #expect(state.tick(now: start + .seconds(6)) == .none)
        state.streamClosed()
        #expect(state.tick(now: .now + .seconds(4)) == .none)
        #expect(state.tick(now: .now + .seconds(6)) == .drain)
    }

    @Test("an old connection is drained after maxAge and closed after the grace")
    func age() {
        var state = ConnectionManagementState(
            configuration: Management(keepaliveInterval: nil, maxAge: .seconds(60), maxAgeGrace: .seconds(30)))
        let start = ContinuousClock.now
        #expect(state.tick(now: start + .seconds(59)) == .none)
        #expect(state.tick(now: start + .seconds(61)) == .drain)
        #expect(state.tick(now: start + .seconds(92)) == .close)
    }
}
