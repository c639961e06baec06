import Testing

@testable import RPCHTTP2

@Suite("AcceptOrder: accepted connections are set up newest first, a window at a time")
struct AcceptOrderTests {
    /// The connections an action list sets up and closes, in order.
    static func split(_ actions: [AcceptOrder<Int>.Action]) -> (setUp: [Int], closed: [Int]) {
        var setUp: [Int] = []
        var closed: [Int] = []
        for action in actions {
            switch action {
            case .setUp(let connection): setUp.append(connection)
            case .close(let connection): closed.append(connection)
            }
        }
        return (setUp, closed)
    }

    @Test("with room in the window a connection is set up as soon as it is accepted")
    func immediate() {
        var order = AcceptOrder<Int>(window: 2, capacity: 10)
        #expect(Self.split(order.accepted(1)).setUp == [1])
        #expect(Self.split(order.accepted(2)).setUp == [2])
        #expect(Self.split(order.accepted(3)).setUp == [], "the window of 2 is full")
        #expect(order.inSetup == 2 && order.waitingCount == 1)
    }

    @Test("during a flood the newest waiting connection is set up next, not the oldest")
    func newestFirst() {
        var order = AcceptOrder<Int>(window: 1, capacity: 100)
        _ = order.accepted(0)
        for connection in 1...50 { #expect(Self.split(order.accepted(connection)).setUp.isEmpty) }
        #expect(Self.split(order.setUpFinished()).setUp == [50])
        _ = order.accepted(51)  // a client connecting while the flood waits
        #expect(Self.split(order.setUpFinished()).setUp == [51])
        #expect(Self.split(order.setUpFinished()).setUp == [49])
    }

    @Test("past the capacity the oldest waiting connection is closed; every connection is set up or closed once")
    func capacity() {
        var order = AcceptOrder<Int>(window: 1, capacity: 3)
        var setUp: [Int] = []
        var closed: [Int] = []
        for connection in 0..<10 {
            let (s, c) = Self.split(order.accepted(connection))
            setUp += s
            closed += c
        }
        #expect(setUp == [0] && closed == [1, 2, 3, 4, 5, 6], "set up \(setUp), closed \(closed)")
        while order.inSetup > 0 {
            let (s, c) = Self.split(order.setUpFinished())
            setUp += s
            closed += c
        }
        #expect(setUp == [0, 9, 8, 7] && closed.count == 6)
        #expect(Set(setUp + closed) == Set(0..<10) && setUp.count + closed.count == 10)
    }

    @Test("when the listener closes, what waits is handed back to be closed and nothing more is set up")
    func listenerClosed() {
        var order = AcceptOrder<Int>(window: 1, capacity: 10)
        for connection in 0..<4 { _ = order.accepted(connection) }
        #expect(Set(order.listenerClosed()) == [1, 2, 3])
        #expect(Self.split(order.setUpFinished()).setUp.isEmpty)
        #expect(order.inSetup == 0 && order.waitingCount == 0)
    }
}
