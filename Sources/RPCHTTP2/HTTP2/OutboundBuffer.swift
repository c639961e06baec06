import DequeModule

/// Framed messages waiting for nghttp2 to pull them into DATA frames, for one stream.
struct OutboundBuffer {
    private var chunks = Deque<[UInt8]>()
    private var offset = 0
    /// Bytes queued and not yet handed to nghttp2.
    private(set) var byteCount = 0

    var isEmpty: Bool { chunks.isEmpty }

    mutating func append(_ chunk: [UInt8]) {
        guard !chunk.isEmpty else { return }
        chunks.append(chunk)
        byteCount += chunk.count
    }

    /// Copies as many queued bytes as fit into `buffer`; returns how many.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        var written = 0
        while written < buffer.count, let chunk = chunks.first {
            let available = chunk.count - offset
            let count = min(available, buffer.count - written)
            chunk.withUnsafeBytes { source in
                let slice = UnsafeRawBufferPointer(rebasing: source[offset..<(offset + count)])
                UnsafeMutableRawBufferPointer(rebasing: buffer[written..<(written + count)]).copyMemory(from: slice)
            }
            written += count
            if count == available {
                chunks.removeFirst()
                offset = 0
            } else {
                offset += count
            }
        }
        byteCount -= written
        return written
    }
}
