/// Ordered gRPC metadata: ASCII values and binary values (keys ending in `-bin`).
///
/// Keys are stored lower-cased, as HTTP/2 requires. Binary values travel base64-encoded on the
/// wire; here they are raw bytes.
///
/// ```swift
/// var metadata: Metadata = ["x-request-id": "42"]
/// metadata.add(binary: [0xAB, 0xCD], forKey: "trace-bin")
/// ```
public struct Metadata: Sendable, Hashable, ExpressibleByDictionaryLiteral, Sequence {
    public typealias Key = String

    /// One metadata value.
    public enum Value: Sendable, Hashable, ExpressibleByStringLiteral {
        case string(String)
        case binary([UInt8])

        public init(stringLiteral value: String) { self = .string(value) }
    }

    /// One key and its value.
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var value: Value
    }

    private var entries: [Entry] = []

    public init() {}

    public init(dictionaryLiteral elements: (String, Value)...) {
        for (key, value) in elements { entries.append(Entry(key: Self.normalized(key), value: value)) }
    }

    /// Adds an ASCII value; the key is lower-cased.
    public mutating func add(_ value: String, forKey key: String) {
        entries.append(Entry(key: Self.normalized(key), value: .string(value)))
    }

    /// Adds a binary value; the key should end in `-bin`.
    public mutating func add(binary value: [UInt8], forKey key: String) {
        entries.append(Entry(key: Self.normalized(key), value: .binary(value)))
    }

    /// Adds an entry as it is.
    public mutating func add(_ entry: Entry) {
        entries.append(entry)
    }

    /// Removes every value for a key.
    public mutating func removeAll(forKey key: String) {
        let key = Self.normalized(key)
        entries.removeAll { $0.key == key }
    }

    /// The first ASCII value for a key.
    public func firstString(forKey key: String) -> String? {
        let key = Self.normalized(key)
        for entry in entries where entry.key == key {
            if case .string(let value) = entry.value { return value }
        }
        return nil
    }

    /// The first binary value for a key.
    public func firstBinary(forKey key: String) -> [UInt8]? {
        let key = Self.normalized(key)
        for entry in entries where entry.key == key {
            if case .binary(let value) = entry.value { return value }
        }
        return nil
    }

    /// Every value for a key, in order.
    public subscript(key: String) -> [Value] {
        let key = Self.normalized(key)
        return entries.filter { $0.key == key }.map(\.value)
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    public func makeIterator() -> IndexingIterator<[Entry]> { entries.makeIterator() }
}

extension Metadata {
    /// Whether a key names a binary (`-bin`) entry.
    public static func isBinaryKey(_ key: String) -> Bool { key.hasSuffix("-bin") }

    /// Keys that gRPC or HTTP/2 reserve; they are never exposed as user metadata.
    public static func isReserved(_ key: String) -> Bool {
        if key.hasPrefix(":") { return true }
        switch key {
        case "content-type", "te", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "grpc-status",
            "grpc-message", "user-agent", "content-length", "host", "connection", "accept-encoding":
            return true
        default:
            return false
        }
    }

    /// A key as stored (lowercase); keys are nearly always written lowercase already, so this copies only when not.
    static func normalized(_ key: String) -> String {
        key.utf8.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } ? key.lowercased() : key
    }
}
