import Instrumentation

/// Where a span sits in a distributed trace: the W3C Trace Context (`traceparent`, `tracestate`) of one span.
///
/// https://www.w3.org/TR/trace-context/ — a `traceparent` is `version-traceid-parentid-flags` in lowercase hex,
/// `00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01`; all-zero ids are invalid.
public struct TraceContext: Sendable, Hashable {
    /// 16 bytes identifying the whole trace.
    public var traceID: TraceID
    /// 8 bytes identifying this span.
    public var spanID: SpanID
    /// Whether the trace is sampled (recorded) upstream: bit 0 of the trace flags.
    public var sampled: Bool
    /// The vendor entries of `tracestate`, passed on unchanged.
    public var traceState: String

    public init(traceID: TraceID, spanID: SpanID, sampled: Bool, traceState: String = "") {
        self.traceID = traceID
        self.spanID = spanID
        self.sampled = sampled
        self.traceState = traceState
    }

    /// Parses a `traceparent` header; `nil` when it is malformed (the receiver then starts a new trace, as the
    /// specification says). Versions above 00 are read by their first four fields.
    public init?(traceparent: String, traceState: String = "") {
        let bytes = Array(traceparent.utf8)
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"),
            bytes[52] == UInt8(ascii: "-"),
            let version = Hex.byte(bytes[0], bytes[1]), version != 0xff,
            version != 0 || bytes.count == 55,
            bytes.count == 55 || bytes[55] == UInt8(ascii: "-"),
            let traceID = TraceID(hex: bytes[3..<35]), let spanID = SpanID(hex: bytes[36..<52]),
            let flags = Hex.byte(bytes[53], bytes[54])
        else { return nil }
        self.init(traceID: traceID, spanID: spanID, sampled: flags & 1 == 1, traceState: traceState)
    }

    /// The `traceparent` header of this span (version 00).
    public var traceparent: String {
        "00-\(traceID.hex)-\(spanID.hex)-\(sampled ? "01" : "00")"
    }
}

/// A trace id: 16 bytes, never all zero.
public struct TraceID: Sendable, Hashable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init?(high: UInt64, low: UInt64) {
        guard high != 0 || low != 0 else { return nil }
        self.high = high
        self.low = low
    }

    init?(hex: ArraySlice<UInt8>) {
        guard let high = Hex.uint64(hex.prefix(16)), let low = Hex.uint64(hex.suffix(16)) else { return nil }
        self.init(high: high, low: low)
    }

    /// A new random id.
    public static func random() -> TraceID {
        var generator = SystemRandomNumberGenerator()
        return TraceID(high: generator.next(), low: generator.next() | 1)!
    }

    /// The 16 bytes, big-endian, as OTLP carries them.
    public var bytes: [UInt8] { Hex.bigEndian(high) + Hex.bigEndian(low) }
    /// 32 lowercase hex digits.
    public var hex: String { Hex.string(high) + Hex.string(low) }
    public var description: String { hex }
}

/// A span id: 8 bytes, never all zero.
public struct SpanID: Sendable, Hashable, CustomStringConvertible {
    public var value: UInt64

    public init?(_ value: UInt64) {
        guard value != 0 else { return nil }
        self.value = value
    }

    init?(hex: ArraySlice<UInt8>) {
        guard let value = Hex.uint64(hex) else { return nil }
        self.init(value)
    }

    /// A new random id.
    public static func random() -> SpanID {
        var generator = SystemRandomNumberGenerator()
        return SpanID(generator.next() | 1)!
    }

    /// The 8 bytes, big-endian, as OTLP carries them.
    public var bytes: [UInt8] { Hex.bigEndian(value) }
    /// 16 lowercase hex digits.
    public var hex: String { Hex.string(value) }
    public var description: String { hex }
}

/// The key under which an ``InstrumentationContext`` carries the trace position of its current span.
public enum TraceContextKey: InstrumentationContextKey {
    public typealias Value = TraceContext
    public static var nameOverride: String? { "trace-context" }
}

extension InstrumentationContext {
    /// The trace position of the current span, if any.
    public var traceContext: TraceContext? {
        get { self[TraceContextKey.self] }
        set { self[TraceContextKey.self] = newValue }
    }
}

/// Lowercase hexadecimal, as W3C Trace Context requires (uppercase digits make a header invalid).
enum Hex {
    static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    static func byte(_ high: UInt8, _ low: UInt8) -> UInt8? {
        guard let high = nibble(high), let low = nibble(low) else { return nil }
        return high << 4 | low
    }

    static func uint64(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard digits.count == 16 else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            guard let nibble = nibble(digit) else { return nil }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }

    static func string(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }
}
