import AIMassAPI
import Foundation
import RPCCore

/// One JSON value as parsed from a request body; booleans and numbers stay distinct.
enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}

/// A JSON request body (an object), read field by field; a field of the wrong type is `INVALID_ARGUMENT` naming it.
/// An absent or `null` field reads as the proto's zero value.
struct JSONBody {
    let fields: [String: JSONValue]

    /// Parses `data`; an empty body means `{}`.
    ///
    /// - Throws: ``RPCError`` `INVALID_ARGUMENT` when the body is not a JSON object.
    init(_ data: Data) throws(RPCError) {
        if data.isEmpty {
            fields = [:]
            return
        }
        guard case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw RPCError(code: .invalidArgument, message: "the request body must be a JSON object")
        }
        self.fields = fields
    }

    private func present(_ key: String) -> JSONValue? {
        guard let value = fields[key] else { return nil }
        if case .null = value { return nil }
        return value
    }

    private func wrongType(_ key: String, _ expected: String) -> RPCError {
        RPCError(code: .invalidArgument, message: "field '\(key)' must be \(expected)")
    }

    func string(_ key: String) throws(RPCError) -> String {
        guard let value = present(key) else { return "" }
        guard case .string(let text) = value else { throw wrongType(key, "a string") }
        return text
    }

    func bool(_ key: String) throws(RPCError) -> Bool {
        guard let value = present(key) else { return false }
        guard case .bool(let flag) = value else { throw wrongType(key, "true or false") }
        return flag
    }

    /// An integer field of type `T`; absent means 0.
    func integer<T: FixedWidthInteger>(_ key: String, as type: T.Type = T.self) throws(RPCError) -> T {
        guard let value = present(key) else { return 0 }
        guard case .number(let number) = value, number.rounded() == number, let exact = T(exactly: number) else {
            throw wrongType(key, "an integer between \(T.min) and \(T.max)")
        }
        return exact
    }

    func strings(_ key: String) throws(RPCError) -> [String] {
        guard let value = present(key) else { return [] }
        guard case .array(let list) = value else { throw wrongType(key, "a list of strings") }
        var texts: [String] = []
        for element in list {
            guard case .string(let text) = element else { throw wrongType(key, "a list of strings") }
            texts.append(text)
        }
        return texts
    }

    func stringMap(_ key: String) throws(RPCError) -> [String: String] {
        guard let value = present(key) else { return [:] }
        guard case .object(let map) = value else { throw wrongType(key, "an object of strings") }
        var texts: [String: String] = [:]
        for (name, element) in map {
            guard case .string(let text) = element else { throw wrongType(key, "an object of strings") }
            texts[name] = text
        }
        return texts
    }

    /// A version as the console sends it: a number (`3`), a numeric string, an alias (`production`), or absent.
    func selector(_ key: String) throws(RPCError) -> VersionSelector? {
        guard let value = present(key) else { return nil }
        if case .string(let text) = value { return versionSelector(text) }
        let number: UInt32 = try integer(key)
        return number == 0 ? nil : VersionSelector(number: number)
    }
}

/// `3` → number 3, `production` → alias, empty → nil (the request's default, usually the newest).
func versionSelector(_ text: String?) -> VersionSelector? {
    guard let text, !text.isEmpty else { return nil }
    if let number = UInt32(text), number > 0 { return VersionSelector(number: number) }
    return VersionSelector(alias: text)
}
