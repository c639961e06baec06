import RPCCore
import TestSupport
import Testing

@testable import RPCHTTP2

/// Feeds bytes to a deframer.
private func feed(_ deframer: inout MessageDeframer, _ bytes: [UInt8]) throws -> [InboundMessage] {
    var result: Result<[InboundMessage], RPCError> = .success([])
    bytes.withUnsafeBytes { raw in
        do throws(RPCError) { result = .success(try deframer.append(raw)) } catch { result = .failure(error) }
    }
    return try result.get()
}

/// A length prefix with an arbitrary flag and length, without the payload.
private func prefix(flag: UInt8, length: UInt32) -> [UInt8] {
    [flag, UInt8(length >> 24), UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 8),
     UInt8(truncatingIfNeeded: length)]
}


@Suite("MessageDeframer and MessageFramer")
struct MessageDeframerTests {
    static let messages: [[UInt8]] = [
        [], [0x42], Array("hello".utf8), [UInt8](repeating: 7, count: 1000), (0..<70_000).map { UInt8(truncatingIfNeeded: $0) },
        [], [1, 2, 3],
    ]

    @Test("framing: flag, big-endian length, payload")
    func framing() {
        #expect(MessageFramer.frame([], compress: false) == [0, 0, 0, 0, 0])
        #expect(MessageFramer.frame([9, 8], compress: false) == [0, 0, 0, 0, 2, 9, 8])
        let big = MessageFramer.frame([UInt8](repeating: 1, count: 0x01_02_03), compress: false)
        #expect(Array(big.prefix(5)) == [0, 0, 0x01, 0x02, 0x03])
        #expect(big.count == 5 + 0x01_02_03)
    }

    @Test("several messages in one chunk")
    func severalInOneChunk() throws {
        var deframer = MessageDeframer(maxMessageSize: 1 << 20, gzipEnabled: false)
        let stream = Self.messages.flatMap { MessageFramer.frame($0, compress: false) }
        let out = try feed(&deframer, stream)
        #expect(out.map(\.bytes) == Self.messages)
        #expect(out.allSatisfy { !$0.wasCompressed })
        #expect(!deframer.hasPartialMessage)
    }

    @Test("messages split at every boundary of a 1-byte, 2-byte and random chunking", arguments: [1, 2, 3, 5, 4096, 0])
    func arbitraryChunks(chunkSize: Int) throws {
        var deframer = MessageDeframer(maxMessageSize: 1 << 20, gzipEnabled: false)
        let stream = Self.messages.flatMap { MessageFramer.frame($0, compress: false) }
        var random = SplitMix64(seed: UInt64(chunkSize) &+ 17)
        var out: [[UInt8]] = []
        var index = 0
        while index < stream.count {
            // chunkSize 0: random chunk sizes in 0...9000 (including empty chunks).
            let size = chunkSize == 0 ? Int.random(in: 0...9000, using: &random) : chunkSize
            let end = min(stream.count, index + size)
            out += try feed(&deframer, Array(stream[index..<end])).map(\.bytes)
            index = end
            #expect(deframer.hasPartialMessage == !Self.endsAtBoundary(stream, index))
        }
        #expect(out == Self.messages)
        #expect(!deframer.hasPartialMessage)
    }

    /// Whether `offset` falls exactly between two framed messages of ``messages``.
    static func endsAtBoundary(_ stream: [UInt8], _ offset: Int) -> Bool {
        var position = 0
        for message in messages {
            if position == offset { return true }
            position += 5 + message.count
        }
        return position == offset
    }

    @Test("every split point of a two-message stream")
    func everySplitPoint() throws {
        let stream = MessageFramer.frame(Array("first".utf8), compress: false) + MessageFramer.frame(Array("second!".utf8), compress: false)
        for split in 0...stream.count {
            var deframer = MessageDeframer(maxMessageSize: 100, gzipEnabled: false)
            let a = try feed(&deframer, Array(stream[..<split]))
            let b = try feed(&deframer, Array(stream[split...]))
            #expect((a + b).map { String(decoding: $0.bytes, as: UTF8.self) } == ["first", "second!"], "split at \(split)")
        }
    }

    @Test("hasPartialMessage tracks an unfinished header or payload")
    func partialMessage() throws {
        var deframer = MessageDeframer(maxMessageSize: 100, gzipEnabled: false)
        #expect(!deframer.hasPartialMessage)
        #expect(try feed(&deframer, [0, 0, 0]).isEmpty)
        #expect(deframer.hasPartialMessage)
        #expect(try feed(&deframer, [0, 3, 1]).isEmpty)
        #expect(deframer.hasPartialMessage)
        let out = try feed(&deframer, [2, 3])
        #expect(out.map(\.bytes) == [[1, 2, 3]])
        #expect(!deframer.hasPartialMessage)
        #expect(try feed(&deframer, []).isEmpty)
        #expect(!deframer.hasPartialMessage)
    }

    @Test("flag 2 and above is INTERNAL", arguments: [UInt8(2), 3, 0x80, 0xFF])
    func invalidFlag(flag: UInt8) {
        var deframer = MessageDeframer(maxMessageSize: 100, gzipEnabled: true)
        let error = #expect(throws: RPCError.self) { try feed(&deframer, prefix(flag: flag, length: 1) + [0]) }
        #expect(error?.code == .internalError)
    }

    @Test("a length above the limit is RESOURCE_EXHAUSTED as soon as the prefix arrives")
    func tooLong() throws {
        var deframer = MessageDeframer(maxMessageSize: 1000, gzipEnabled: false)
        // Exactly the limit is fine.
        let atLimit = try feed(&deframer, MessageFramer.frame([UInt8](repeating: 1, count: 1000), compress: false))
        #expect(atLimit.first?.bytes.count == 1000)
        let error = #expect(throws: RPCError.self) { try feed(&deframer, prefix(flag: 0, length: 1001)) }
        #expect(error?.code == .resourceExhausted)

        var huge = MessageDeframer(maxMessageSize: 4 << 20, gzipEnabled: false)
        let hugeError = #expect(throws: RPCError.self) { try feed(&huge, prefix(flag: 0, length: UInt32.max)) }
        #expect(hugeError?.code == .resourceExhausted)
    }

    @Test("a compressed message without gzip encoding is an error")
    func compressedWithoutGzip() throws {
        var deframer = MessageDeframer(maxMessageSize: 1000, gzipEnabled: false)
        let framed = MessageFramer.frame(Array("payload".utf8), compress: true)
        #expect(framed.first == 1)
        let error = #expect(throws: RPCError.self) { try feed(&deframer, framed) }
        #expect(error?.code == .internalError)
    }

    @Test("gzip round trip with MessageFramer", arguments: [0, 1, 100, 70_000, 300_000])
    func gzipRoundTrip(size: Int) throws {
        var random = SplitMix64(seed: UInt64(size))
        let message = (0..<size).map { index in index % 3 == 0 ? UInt8.random(in: 0...255, using: &random) : 0 }
        let framed = MessageFramer.frame(message, compress: true)
        #expect(framed.first == 1)
        var deframer = MessageDeframer(maxMessageSize: 1 << 20, gzipEnabled: true)
        // Split it in the middle, and follow it with an uncompressed message.
        let stream = framed + MessageFramer.frame([5], compress: false)
        let middle = stream.count / 2
        let out = try feed(&deframer, Array(stream[..<middle])) + feed(&deframer, Array(stream[middle...]))
        #expect(out.count == 2)
        #expect(out.first?.bytes == message)
        #expect(out.first?.wasCompressed == true)
        #expect(out.last?.bytes == [5])
        #expect(out.last?.wasCompressed == false)
    }

    @Test("gzip data that decompresses above the limit is RESOURCE_EXHAUSTED")
    func gzipBomb() throws {
        let framed = MessageFramer.frame([UInt8](repeating: 0, count: 1 << 20), compress: true)
        #expect(framed.count < 10_000)
        var deframer = MessageDeframer(maxMessageSize: 64 * 1024, gzipEnabled: true)
        let error = #expect(throws: RPCError.self) { try feed(&deframer, framed) }
        #expect(error?.code == .resourceExhausted)
    }

    @Test("invalid or truncated gzip data is INTERNAL")
    func invalidGzip() throws {
        for payload: [UInt8] in [[], [1, 2, 3, 4], Array(MessageFramer.frame(Array("truncated message".utf8), compress: true).dropFirst(5).dropLast(6))] {
            var deframer = MessageDeframer(maxMessageSize: 1000, gzipEnabled: true)
            let error = #expect(throws: RPCError.self) { try feed(&deframer, prefix(flag: 1, length: UInt32(payload.count)) + payload) }
            #expect(error?.code == .internalError)
        }
    }
}
