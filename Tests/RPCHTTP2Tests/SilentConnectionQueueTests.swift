import Testing

@testable import RPCHTTP2

@Suite("SilentConnectionQueue: connections that have not spoken, checked a few at a time")
struct SilentConnectionQueueTests {
    static func queue(perCheck: Int = 3) -> SilentConnectionQueue<Int> {
        SilentConnectionQueue(perCheck: perCheck, shortestPause: .milliseconds(1), longestPause: .milliseconds(8))
    }

    @Test("the first silent arrival schedules the checks; later ones join them")
    func arrival() {
        var queue = Self.queue()
        #expect(queue.arrived(1) == .milliseconds(1))
        #expect(queue.arrived(2) == nil && queue.count == 2)
    }

    @Test("each round checks at most `perCheck`, oldest first; the silent go to the back")
    func rounds() {
        var queue = Self.queue()
        for id in 1...5 { _ = queue.arrived(id) }
        #expect(queue.round() == [1, 2, 3])
        _ = queue.checked(stillSilent: [1, 3], spoke: 1)
        #expect(queue.round() == [4, 5, 1])
        _ = queue.checked(stillSilent: [4, 5, 1], spoke: 0)
        #expect(queue.round() == [3, 4, 5])
    }

    @Test("the pause doubles while nobody speaks, up to the longest, and is short again after someone spoke")
    func pauses() {
        var queue = Self.queue(perCheck: 1)
        _ = queue.arrived(1)
        _ = queue.arrived(2)
        var pauses: [Duration] = []
        for _ in 0..<5 {
            let due = queue.round()
            pauses.append(queue.checked(stillSilent: due, spoke: 0) ?? .zero)
        }
        #expect(pauses == [.milliseconds(2), .milliseconds(4), .milliseconds(8), .milliseconds(8), .milliseconds(8)])
        _ = queue.round()
        #expect(queue.checked(stillSilent: [], spoke: 1) == .milliseconds(1))
    }

    @Test("with nobody left the checks stop, and the next silent arrival starts them again")
    func stop() {
        var queue = Self.queue()
        _ = queue.arrived(1)
        _ = queue.arrived(2)
        queue.left(2)
        #expect(queue.round() == [1], "a connection that left is not checked")
        #expect(queue.checked(stillSilent: [], spoke: 1) == nil && !queue.checking)
        #expect(queue.arrived(3) == .milliseconds(1))
    }

    @Test("thousands waiting, most leaving: every one still waiting is checked once per pass")
    func manyLeave() {
        var queue = Self.queue(perCheck: 64)
        for id in 0..<5_000 { _ = queue.arrived(id) }
        for id in stride(from: 0, to: 5_000, by: 2) { queue.left(id) }
        var checkedInOrder: [Int] = []
        while checkedInOrder.count < 2_500 {
            let due = queue.round()
            #expect(!due.isEmpty)
            checkedInOrder += due
            _ = queue.checked(stillSilent: due, spoke: 0)
        }
        #expect(checkedInOrder.prefix(2_500) == ArraySlice(stride(from: 1, to: 5_000, by: 2)))
        #expect(queue.count == 2_500)
    }
}
