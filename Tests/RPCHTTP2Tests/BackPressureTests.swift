import Testing

@testable import RPCHTTP2

@Suite("BackPressure")
struct BackPressureTests {
    @Test("unsaturated: the configured limit, never a pause, nothing to announce")
    func unsaturated() {
        var policy = BackPressure(configuredLimit: 256)
        let action = policy.update(saturation: nil, connections: 64, held: 500, queued: 100)
        #expect(action == .init(announce: nil, resumeReading: false))
        #expect(policy.announcedLimit == 256 && !policy.readsPaused)
    }

    @Test("saturated: each connection's share of what the gate holds (at least 1) plus 4, at most the configured limit")
    func shares() {
        var policy = BackPressure(configuredLimit: 256)
        #expect(policy.update(saturation: 640, connections: 64, held: 0, queued: 0).announce == 14)
        var few = BackPressure(configuredLimit: 256)
        #expect(few.update(saturation: 20, connections: 64, held: 0, queued: 0).announce == 1 + BackPressure.headroom)
        var one = BackPressure(configuredLimit: 256)
        #expect(one.update(saturation: 10_000, connections: 1, held: 0, queued: 0).announce == nil, "share above 256")
    }

    @Test("small changes under saturation are not announced; halving, doubling and the restore are")
    func hysteresis() {
        var policy = BackPressure(configuredLimit: 256)
        #expect(policy.update(saturation: 1280, connections: 64, held: 0, queued: 0).announce == 24)
        #expect(policy.update(saturation: 1344, connections: 64, held: 0, queued: 0).announce == nil, "25 is close to 24")
        #expect(policy.update(saturation: 512, connections: 64, held: 0, queued: 0).announce == 12)
        #expect(policy.update(saturation: 1600, connections: 64, held: 0, queued: 0).announce == 29)
        #expect(policy.update(saturation: nil, connections: 64, held: 0, queued: 0).announce == 256)
    }

    @Test("reads pause only while the connection holds its share with some of it queued, and resume once not")
    func pauses() {
        var policy = BackPressure(configuredLimit: 256)
        _ = policy.update(saturation: 320, connections: 64, held: 4, queued: 0)  // share 5
        #expect(!policy.readsPaused)
        _ = policy.update(saturation: 320, connections: 64, held: 5, queued: 0)
        #expect(!policy.readsPaused, "all running: a pause would hide the client's cancellations")
        _ = policy.update(saturation: 320, connections: 64, held: 5, queued: 1)
        #expect(policy.readsPaused)
        #expect(policy.update(saturation: 320, connections: 64, held: 5, queued: 1).resumeReading == false)
        #expect(policy.update(saturation: 320, connections: 64, held: 4, queued: 0).resumeReading == true)
        _ = policy.update(saturation: 320, connections: 64, held: 6, queued: 2)
        #expect(policy.update(saturation: nil, connections: 64, held: 6, queued: 2).resumeReading == true)
    }
}
