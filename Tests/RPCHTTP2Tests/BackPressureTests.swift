import Testing

@testable import RPCHTTP2

@Suite("BackPressure")
struct BackPressureTests {
    @Test("never pauses while the gate is not saturated, nor while none of the connection's calls is queued")
    func noPause() {
        var policy = BackPressure()
        let resumed1 = policy.update(saturation: nil, connections: 1, held: 500, queued: 100)
        #expect(!resumed1)
        #expect(!policy.readsPaused)
        let resumed2 = policy.update(saturation: 10, connections: 1, held: 500, queued: 0)
        #expect(!resumed2)
        #expect(!policy.readsPaused, "all running: a pause would hide the client's cancellations")
    }

    @Test("pauses while the connection holds its share (at least 1) with some of it queued; resumes once not")
    func pauses() {
        var policy = BackPressure()
        _ = policy.update(saturation: 320, connections: 64, held: 4, queued: 1)  // share 5
        #expect(!policy.readsPaused)
        _ = policy.update(saturation: 320, connections: 64, held: 5, queued: 1)
        #expect(policy.readsPaused)
        let resumed3 = policy.update(saturation: 320, connections: 64, held: 6, queued: 2)
        #expect(!resumed3, "still paused")
        let resumed4 = policy.update(saturation: 320, connections: 64, held: 4, queued: 1)
        #expect(resumed4, "under its share: resume")
        _ = policy.update(saturation: 10, connections: 64, held: 1, queued: 1)  // share rounds up to 1
        #expect(policy.readsPaused)
        let resumed5 = policy.update(saturation: nil, connections: 64, held: 1, queued: 1)
        #expect(resumed5, "no longer saturated: resume")
        _ = policy.update(saturation: 10, connections: 64, held: 1, queued: 1)
        let resumed6 = policy.update(saturation: 10, connections: 64, held: 1, queued: 0)
        #expect(resumed6, "nothing queued: resume")
    }
}
