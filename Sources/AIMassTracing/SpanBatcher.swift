import Logging
import Synchronization

/// Sends finished spans somewhere: an OTLP collector, a test's list.
public protocol SpanExporter: Sendable {
    func export(_ spans: [SpanRecord]) async throws
}

/// Buffers finished spans and hands them to an exporter in batches, from one task (``run()``), so that ending a
/// span on a server's event loop costs a lock and an append. When the exporter falls behind, the buffer keeps its
/// first `capacity` spans and counts what it drops (logged with each export), rather than growing without bound.
public final class SpanBatcher: SpanSink {
    private struct Buffer {
        var spans: [SpanRecord] = []
        var dropped = 0
    }

    private let exporter: any SpanExporter
    private let capacity: Int
    private let maxBatch: Int
    private let interval: Duration
    private let logger: Logger
    private let buffer = Mutex(Buffer())

    public init(
        exporter: any SpanExporter, capacity: Int = 8192, maxBatch: Int = 512, interval: Duration = .milliseconds(200),
        logger: Logger
    ) {
        self.exporter = exporter
        self.capacity = capacity
        self.maxBatch = maxBatch
        self.interval = interval
        self.logger = logger
    }

    public func spanEnded(_ span: SpanRecord) {
        buffer.withLock { buffer in
            if buffer.spans.count < capacity {
                buffer.spans.append(span)
            } else {
                buffer.dropped += 1
            }
        }
    }

    /// Exports what arrives every `interval` until the task is cancelled, then exports what is left.
    public func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await flush()
        }
        await flush()
    }

    /// Exports every buffered span now, in batches of at most `maxBatch`.
    public func flush() async {
        let (spans, dropped) = buffer.withLock { buffer in
            defer { buffer = Buffer() }
            return (buffer.spans, buffer.dropped)
        }
        if dropped > 0 {
            logger.warning("trace spans dropped: the exporter fell behind", metadata: ["dropped": "\(dropped)"])
        }
        var start = spans.startIndex
        while start < spans.endIndex {
            let end = min(start + maxBatch, spans.endIndex)
            do {
                try await exporter.export(Array(spans[start..<end]))
            } catch {
                logger.warning(
                    "trace export failed", metadata: ["spans": "\(end - start)", "error": "\(error)"])
            }
            start = end
        }
    }
}
