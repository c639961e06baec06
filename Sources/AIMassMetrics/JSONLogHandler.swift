import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A swift-log handler that writes every log line as one JSON object on standard error (`--log-format json`):
///
/// `{"ts":"2026-12-06T21:04:05.123Z","level":"info","label":"aimass.access","message":"call","grpc_method":"…",…}`
///
/// Metadata keys become top-level fields (strings; nested values flattened to their description); `ts`, `level`,
/// `label` and `message` win over metadata of the same name. Each line goes out in one `write(2)`, so lines from
/// several threads never interleave.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let fileDescriptor: Int32

    /// A handler for `label` writing to standard error (or `fileDescriptor`).
    public init(label: String, fileDescriptor: Int32 = 2) {
        self.label = label
        self.fileDescriptor = fileDescriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let line = Self.line(
            timestamp: Self.timestamp(), level: event.level, label: label, message: "\(event.message)",
            metadata: metadata.merging(event.metadata ?? [:]) { _, new in new }
        )
        line.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(fileDescriptor, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// One JSON line (with its newline).
    static func line(
        timestamp: String, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(UInt8(ascii: "{"))
        var first = true
        func field(_ key: String, _ value: String) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(value, to: &out)
        }
        field("ts", timestamp)
        field("level", level.rawValue)
        field("label", label)
        field("message", message)
        let reserved: Set<String> = ["ts", "level", "label", "message"]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where !reserved.contains(key) {
            field(key, "\(value)")
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    /// Appends `value` as a JSON string literal.
    static func appendString(_ value: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): out.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): out.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): out.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Now, in UTC, ISO 8601 with milliseconds.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = now.tv_nsec / 1_000_000
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let ms = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }
}
