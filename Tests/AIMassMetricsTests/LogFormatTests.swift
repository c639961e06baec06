import Foundation
import Logging
import RPCCore
import Testing

@testable import AIMassMetrics

@Suite("JSON log lines and the access log")
struct LogFormatTests {
    @Test("a JSON line is one valid object with the fields first and metadata flattened and escaped")
    func jsonLine() throws {
        let line = JSONLogHandler.line(
            timestamp: "2026-12-06T21:04:05.123Z", level: .info, label: "aimass.access", message: "call \"quoted\"",
            metadata: ["peer": "ipv4:127.0.0.1:5", "note": "tab\tnew\nline\u{1}", "level": "ignored"]
        )
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.hasSuffix("}\n"))
        #expect(text.dropLast().contains("\n") == false)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: String])
        #expect(object["ts"] == "2026-12-06T21:04:05.123Z")
        #expect(object["level"] == "info")
        #expect(object["label"] == "aimass.access")
        #expect(object["message"] == "call \"quoted\"")
        #expect(object["peer"] == "ipv4:127.0.0.1:5")
        #expect(object["note"] == "tab\tnew\nline\u{1}")
    }

    @Test("timestamps are UTC ISO 8601 with milliseconds")
    func timestamp() {
        let stamp = JSONLogHandler.timestamp()
        #expect(stamp.count == 24)
        #expect(stamp.hasSuffix("Z"))
        #expect(ISO8601DateFormatter.withFractions.date(from: stamp) != nil)
    }

    @Test("durations in milliseconds keep microseconds; bearer tokens are read from metadata")
    func accessLogFields() {
        #expect(AccessLogInterceptor.milliseconds(.microseconds(1_234_567)) == "1234.567")
        #expect(AccessLogInterceptor.milliseconds(.microseconds(5)) == "0.005")
        #expect(AccessLogInterceptor.bearerToken(["authorization": "Bearer  aimass_abc "]) == "aimass_abc")
        #expect(AccessLogInterceptor.bearerToken(["authorization": "Basic x"]) == nil)
        #expect(AccessLogInterceptor.bearerToken([:]) == nil)
    }

    @Test("the access log writes method, status, duration, peer, annotations and the token id, never the token")
    func accessLine() {
        let recorder = RecordingHandler.Store()
        let logger = Logger(label: "aimass.access") { _ in RecordingHandler(store: recorder) }
        let interceptor = AccessLogInterceptor(logger: logger) { token in "id-of-\(token.count)" }
        let context = ServerContext(
            descriptor: MethodDescriptor(service: "aimass.v1.Recommend", method: "Recommend"),
            requestMetadata: ["authorization": "Bearer aimass_secret"], deadline: nil, remotePeer: "ipv4:127.0.0.1:9",
            peerAcceptsGzip: false, recordsAnnotations: true, logger: logger
        )
        context.annotate("model", "films")
        context.annotate("version", "2")
        interceptor.callEnded(context, status: RPCStatus(code: .resourceExhausted, message: "busy"), duration: .milliseconds(3))
        let lines = recorder.lines()
        #expect(lines.count == 1)
        let metadata = lines.first?.metadata ?? [:]
        #expect(metadata["grpc_method"] == "aimass.v1.Recommend/Recommend")
        #expect(metadata["grpc_status"] == "RESOURCE_EXHAUSTED")
        #expect(metadata["grpc_message"] == "busy")
        #expect(metadata["duration_ms"] == "3.000")
        #expect(metadata["peer"] == "ipv4:127.0.0.1:9")
        #expect(metadata["model"] == "films")
        #expect(metadata["version"] == "2")
        #expect(metadata["token_id"] == "id-of-13")
        #expect(!lines.description.contains("aimass_secret"))
    }
}

extension ISO8601DateFormatter {
    fileprivate static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

/// Keeps what is logged, for assertions.
struct RecordingHandler: LogHandler {
    final class Store: @unchecked Sendable {
        // Guarded by `lock`.
        private var recorded: [(message: String, metadata: [String: String])] = []
        private let lock = NSLock()
        func append(_ line: (message: String, metadata: [String: String])) { lock.withLock { recorded.append(line) } }
        func lines() -> [(message: String, metadata: [String: String])] { lock.withLock { recorded } }
    }

    let store: Store
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        store.append(("\(event.message)", merged.mapValues { "\($0)" }))
    }
}
