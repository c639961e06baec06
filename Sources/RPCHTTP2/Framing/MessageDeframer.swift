import RPCCore

/// Splits a byte stream into gRPC length-prefixed messages (1 flag byte, 4-byte big-endian length).
///
/// A message may span DATA frames and a frame may hold several messages, so bytes are gathered
/// until a whole message is there. Pure value type: unit-tested without sockets, and fuzzed.
public struct MessageDeframer: Sendable {
    /// Largest message accepted, after decompression.
    public let maxMessageSize: Int
    /// Whether the call's `grpc-encoding` is gzip (a flag-1 message without it is an error).
    public let gzipEnabled: Bool

    private var pending: [UInt8] = []
    private var readIndex = 0

    public init(maxMessageSize: Int, gzipEnabled: Bool) {
        self.maxMessageSize = maxMessageSize
        self.gzipEnabled = gzipEnabled
    }

    /// Whether bytes of an unfinished message are buffered (a stream ending now is truncated).
    public var hasPartialMessage: Bool { readIndex < pending.count }

    /// Adds received bytes and returns every message they complete.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) throws(RPCError) -> [InboundMessage] {
        pending.append(contentsOf: bytes)
        var messages: [InboundMessage] = []
        while pending.count - readIndex >= 5 {
            let flag = pending[readIndex]
            let length =
                Int(pending[readIndex + 1]) << 24 | Int(pending[readIndex + 2]) << 16 | Int(pending[readIndex + 3]) << 8
                | Int(pending[readIndex + 4])
            guard flag <= 1 else {
                throw RPCError(code: .internalError, message: "invalid message flag \(flag) in the length prefix")
            }
            guard length <= maxMessageSize else {
                throw RPCError(
                    code: .resourceExhausted,
                    message: "message of \(length) bytes exceeds the limit of \(maxMessageSize) bytes"
                )
            }
            guard pending.count - readIndex - 5 >= length else { break }
            let start = readIndex + 5
            let payload = Array(pending[start..<(start + length)])
            readIndex = start + length
            messages.append(try Self.decode(payload, compressed: flag == 1, gzip: gzipEnabled, limit: maxMessageSize))
        }
        if readIndex == pending.count {
            pending.removeAll(keepingCapacity: pending.count <= 64 * 1024)
            readIndex = 0
        } else if readIndex > 64 * 1024 {
            pending.removeFirst(readIndex)
            readIndex = 0
        }
        return messages
    }

    private static func decode(_ payload: [UInt8], compressed: Bool, gzip: Bool, limit: Int) throws(RPCError)
        -> InboundMessage
    {
        guard compressed else { return InboundMessage(bytes: payload, wasCompressed: false) }
        guard gzip else {
            throw RPCError(code: .internalError, message: "compressed message without a supported grpc-encoding")
        }
        do {
            return InboundMessage(bytes: try Gzip.decompress(payload, limit: limit), wasCompressed: true)
        } catch {
            let code: StatusCode = error.description.contains("larger") ? .resourceExhausted : .internalError
            throw RPCError(code: code, message: "cannot decompress message: \(error)")
        }
    }
}

/// Builds the length-prefixed form of one message, compressing it when asked.
public enum MessageFramer {
    /// The bytes before each message: its compressed flag and its length.
    public static let prefixLength = 5

    /// Frames a message; with `compress`, gzips it and sets the flag (unless gzip fails, then plain).
    public static func frame(_ message: [UInt8], compress: Bool) -> [UInt8] {
        var payload = message
        var flag: UInt8 = 0
        if compress, let compressed = try? Gzip.compress(message) {
            payload = compressed
            flag = 1
        }
        var framed = [UInt8]()
        framed.reserveCapacity(payload.count + 5)
        let length = UInt32(payload.count)
        framed.append(flag)
        framed.append(UInt8(truncatingIfNeeded: length >> 24))
        framed.append(UInt8(truncatingIfNeeded: length >> 16))
        framed.append(UInt8(truncatingIfNeeded: length >> 8))
        framed.append(UInt8(truncatingIfNeeded: length))
        framed.append(contentsOf: payload)
        return framed
    }
}
