import SchedulerCore
import Testing

@testable import MeshCore

@Suite struct MeshHubScaleTests {
    /// Correctness at scale only: every subscriber sees the snapshot then all 10,000 revisions in order.
    @Test func thousandSubscribersReceiveTenThousandEventsInOrder() async throws {
        let subscribers = 1_000
        let events = 10_000
        let hub = MeshHub(
            configuration: MeshHub.Configuration(logCapacity: 100, bufferLimit: events + 1, heartbeatInterval: nil))
        try hub.publish(Fixture.worker("w1"))
        let subscriptions = (0..<subscribers).map { _ in hub.subscribe() }
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for subscription in subscriptions {
                group.addTask {
                    var expected: UInt64 = 1
                    var wrong = 0
                    for try await event in subscription {
                        if event.revision != expected { wrong += 1 }
                        if expected == UInt64(events + 1) { break }
                        expected += 1
                    }
                    return wrong + (expected == UInt64(events + 1) ? 0 : 1)
                }
            }
            group.addTask {
                for index in 0..<events {
                    try hub.publish(Fixture.ready("r", model: "m", at: Double(index + 1)))
                }
                return 0
            }
            return try await group.reduce(0, +)
        }
        #expect(failures == 0)
    }
}
