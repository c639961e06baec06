import Synchronization
import Testing

@testable import RPCCore

/// Collects the sizes a queue reports as consumed.
final class ConsumedSizes: Sendable {
    private let sizes = Mutex<[Int]>([])
    func record(_ size: Int) { sizes.withLock { $0.append(size) } }
    var values: [Int] { sizes.withLock { $0 } }
}

private func message(_ bytes: [UInt8], compressed: Bool = false) -> InboundMessage {
    InboundMessage(bytes: bytes, wasCompressed: compressed)
}

@Suite("InboundMessageQueue")
struct InboundMessageQueueTests {
    @Test("delivers messages in order, then nil after finish")
    func order() async throws {
        let queue = InboundMessageQueue()
        queue.push(message([1]))
        queue.push(message([2, 2], compressed: true))
        queue.push(message([3, 3, 3]))
        queue.finish()
        let first = try await queue.next()
        let second = try await queue.next()
        let third = try await queue.next()
        #expect(first?.bytes == [1])
        #expect(first?.wasCompressed == false)
        #expect(second?.bytes == [2, 2])
        #expect(second?.wasCompressed == true)
        #expect(third?.bytes == [3, 3, 3])
        #expect(try await queue.next() == nil)
        #expect(try await queue.next() == nil)
    }

    @Test("pushes after finish are ignored; a second finish changes nothing")
    func afterFinish() async throws {
        let queue = InboundMessageQueue()
        queue.push(message([1]))
        queue.finish()
        queue.push(message([2]))
        queue.finish(throwing: RPCError(code: .internalError, message: "late"))
        #expect(try await queue.next()?.bytes == [1])
        #expect(try await queue.next() == nil)
    }

    @Test("finish(throwing:) drops buffered messages and throws to the consumer, every time")
    func finishThrowing() async throws {
        let queue = InboundMessageQueue()
        queue.push(message([1]))
        queue.push(message([2]))
        queue.finish(throwing: RPCError(code: .resourceExhausted, message: "too big"))
        for _ in 0..<2 {
            let error = await #expect(throws: RPCError.self) { try await queue.next() }
            #expect(error?.code == .resourceExhausted)
            #expect(error?.message == "too big")
        }
    }

    @Test("reports each consumed message's size, when consumed (not when pushed)")
    func onConsumed() async throws {
        let sizes = ConsumedSizes()
        let queue = InboundMessageQueue { sizes.record($0) }
        queue.push(message([UInt8](repeating: 0, count: 10)))
        queue.push(message([]))
        queue.push(message([UInt8](repeating: 0, count: 300)))
        #expect(sizes.values == [])
        _ = try await queue.next()
        #expect(sizes.values == [10])
        _ = try await queue.next()
        _ = try await queue.next()
        queue.finish()
        _ = try await queue.next()
        #expect(sizes.values == [10, 0, 300])
    }

    @Test("a waiting consumer is resumed by push, and reports the size")
    func waitingConsumer() async throws {
        let sizes = ConsumedSizes()
        let queue = InboundMessageQueue { sizes.record($0) }
        let consumer = Task { try await queue.next() }
        try await Task.sleep(for: .milliseconds(100))
        queue.push(message([7, 8, 9]))
        let received = try await consumer.value
        #expect(received?.bytes == [7, 8, 9])
        #expect(sizes.values == [3])
        // The message went to the waiter: nothing is left buffered.
        queue.finish()
        #expect(try await queue.next() == nil)
    }

    @Test("a waiting consumer is resumed by finish and by finish(throwing:)")
    func waitingConsumerFinished() async throws {
        let queue = InboundMessageQueue()
        let consumer = Task { try await queue.next() }
        try await Task.sleep(for: .milliseconds(50))
        queue.finish()
        #expect(try await consumer.value == nil)

        let failing = InboundMessageQueue()
        let failingConsumer = Task { try await failing.next() }
        try await Task.sleep(for: .milliseconds(50))
        failing.finish(throwing: RPCError(code: .unavailable, message: "gone"))
        let error = await #expect(throws: RPCError.self) { try await failingConsumer.value }
        #expect(error?.code == .unavailable)
    }

    @Test("cancelling a waiting consumer throws CANCELLED")
    func cancellation() async throws {
        let queue = InboundMessageQueue()
        let consumer = Task { try await queue.next() }
        try await Task.sleep(for: .milliseconds(50))
        consumer.cancel()
        let error = await #expect(throws: RPCError.self) { try await consumer.value }
        #expect(error?.code == .cancelled)
        // The queue stays ended.
        await #expect(throws: RPCError.self) { try await queue.next() }
    }

    @Test("many messages from another task arrive complete and in order")
    func concurrentProducer() async throws {
        let queue = InboundMessageQueue()
        let producer = Task.detached {
            for index in 0..<1000 {
                queue.push(InboundMessage(bytes: [UInt8(truncatingIfNeeded: index), UInt8(index >> 8)], wasCompressed: false))
                if index % 97 == 0 { await Task.yield() }
            }
            queue.finish()
        }
        var received: [Int] = []
        while let next = try await queue.next() { received.append(Int(next.bytes[0]) | Int(next.bytes[1]) << 8) }
        await producer.value
        #expect(received == Array(0..<1000))
    }
}
