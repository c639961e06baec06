import Testing

@testable import RPCHTTP2

@Suite("MemoryTrimPolicy: when closed connections' memory is given back")
struct MemoryTrimPolicyTests {
    @Test("a few connections closing schedule nothing; a burst of `threshold` schedules one trim")
    func threshold() {
        var policy = MemoryTrimPolicy(threshold: 10)
        for count in 1...20 { policy.opened(count: count) }
        let due = (0..<20).reversed().map { policy.closed(count: $0) }
        #expect(due.filter { $0 }.count == 1 && due[9], "\(due)")
    }

    @Test("a burst still closing when its trim runs is trimmed again after its last close")
    func slowBurst() {
        var policy = MemoryTrimPolicy(threshold: 10)
        for count in 1...100 { policy.opened(count: count) }
        var open = 100
        var trims = 0
        var pending = false
        // Five connections close between each scheduling and its trim: the burst outlasts every trim but the last.
        while open > 0 {
            open -= 1
            if policy.closed(count: open) { pending = true }
            if pending && open % 5 == 0 {
                policy.trimmed(count: open)
                trims += 1
                pending = false
            }
        }
        #expect(!pending && trims >= 2, "trims \(trims), pending \(pending)")
        // After the burst, lone connections come and go: at most one more trim, then none.
        var loneTrims = 0
        for _ in 0..<5 {
            policy.opened(count: 1)
            if policy.closed(count: 0) {
                loneTrims += 1
                policy.trimmed(count: 0)
            }
        }
        #expect(loneTrims <= 1, "\(loneTrims) trims for lone closes after the burst")
    }

    @Test("without the follow-up a slow burst would end untrimmed: the last trim covers every close")
    func lastCloseCovered() {
        var policy = MemoryTrimPolicy(threshold: 10)
        for count in 1...30 { policy.opened(count: count) }
        var open = 30
        var lastTrimAt: Int?
        var scheduledAt: Int?
        while open > 0 {
            open -= 1
            if scheduledAt == nil, policy.closed(count: open) { scheduledAt = open }
            // Each trim runs after 3 more closes.
            if let at = scheduledAt, at - open >= 3 || open == 0 {
                policy.trimmed(count: open)
                lastTrimAt = open
                scheduledAt = nil
            }
        }
        #expect(lastTrimAt == 0, "the last trim ran with \(lastTrimAt.map(String.init) ?? "none") still open")
    }

    @Test("connections that come and go one at a time are trimmed after every `threshold` closes, not never")
    func churn() {
        var policy = MemoryTrimPolicy(threshold: 10)
        var trims = 0
        for _ in 0..<95 {
            policy.opened(count: 3)
            if policy.closed(count: 2) {
                trims += 1
                policy.trimmed(count: 2)
            }
        }
        #expect(trims == 9, "\(trims) trims for 95 closes")
    }

    @Test("the end of a churn is trimmed: a trim that saw closes while it waited is followed by another")
    func churnTail() {
        var policy = MemoryTrimPolicy(threshold: 16)
        var scheduledAt: Int?
        var lastTrimAt: Int?
        for close in 1...50 {
            policy.opened(count: 3)
            if policy.closed(count: 2) { scheduledAt = close }
            // Each trim runs after 4 more closes, or when the timer fires after the last one.
            if let at = scheduledAt, close - at >= 4 || close == 50 {
                policy.trimmed(count: 2)
                lastTrimAt = close
                scheduledAt = nil
            }
        }
        #expect(lastTrimAt == 50, "the last trim ran after close \(lastTrimAt.map(String.init) ?? "none") of 50")
    }
}
