internal import FoundationEssentials

/// Conversions between Swift values and their column representation.
enum Codec {
    /// JSON with sorted keys, so equal maps are stored as equal text.
    static func json<T: Encodable>(_ value: T) throws(RegistryError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw .internal("cannot encode \(T.self) as JSON: \(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String, column: String) throws(RegistryError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw .dataLoss("stored \(column) is not valid JSON for \(T.self): \(error)")
        }
    }

    static func stringMap(_ text: String, column: String) throws(RegistryError) -> [String: String] {
        try self.decode([String: String].self, from: text, column: column)
    }

    static func doubleMap(_ text: String, column: String) throws(RegistryError) -> [String: Double] {
        try self.decode([String: Double].self, from: text, column: column)
    }

    static func list(_ text: String, column: String) throws(RegistryError) -> [String] {
        try self.decode([String].self, from: text, column: column)
    }
}

/// Timestamps are stored as integer milliseconds since 1970; every `Date` the registry returns is rounded to whole
/// milliseconds, so a value read back after a restart equals the one returned at write time.
enum Timestamp {
    static func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    static func optionalDate(_ milliseconds: Int64?) -> Date? {
        milliseconds.map(self.date)
    }
}
