import Testing

@testable import RPCHTTP2

@Suite("ConnectionManagementState: ping strikes")
struct ConnectionManagementStateTests {
    static func state() -> ConnectionManagementState {
        ConnectionManagementState(configuration: ServerConfiguration.ConnectionManagement.defaults)
    }

    @Test("pings closer than the minimum interval with no call active are strikes; too many is too_many_pings")
    func strikes() {
        var state = Self.state()
        let limit = ServerConfiguration.ConnectionManagement.defaults.maxPingStrikes
        var answers: [Bool] = []
        for _ in 0...(limit + 1) { answers.append(state.pingReceived(activeStreams: 0)) }
        #expect(answers.dropLast().allSatisfy { $0 } && answers.last == false, "\(answers)")
    }

    @Test("a ping after a response is never a strike (grpcio's BDP probes follow each response)")
    func responsesResetStrikes() {
        var state = Self.state()
        for _ in 0..<100 {
            let allowed = state.pingReceived(activeStreams: 0)
            #expect(allowed)
            state.responseSent()
        }
    }

    @Test("pings while calls are active are always allowed")
    func activeCalls() {
        var state = Self.state()
        for _ in 0..<100 {
            let allowed = state.pingReceived(activeStreams: 1)
            #expect(allowed)
        }
    }
}
