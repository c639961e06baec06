/// The replicated form of registry rows: a key naming the table and primary key, and a compact encoding of the
/// row's values. Pure functions, so the mapping is tested without a database.
///
/// Key: `TABLE/K1[/K2…]`, each primary-key value typed by its first character: `i` and a decimal integer, `t` and
/// percent-encoded UTF-8 text (every byte outside `A-Z a-z 0-9 - . _` escaped, so `/` never appears), `r` a real
/// (its bit pattern in hex), `x` a blob in hex.
///
/// Value: a varint count of columns, then per column a tag byte (0 null, 1 integer, 2 real, 3 text, 4 blob) and
/// its payload (8 bytes little-endian for integers and reals; a varint length and the bytes for text and blobs).
enum RegistryRowCodec {
    // MARK: Keys

    static func key(table: String, primaryKey: [SQLiteValue]) -> String {
        ([table] + primaryKey.map(Self.keyComponent)).joined(separator: "/")
    }

    /// The table and primary-key values of `key`; `nil` if it is not a row key.
    static func parseKey(_ key: String) -> (table: String, primaryKey: [SQLiteValue])? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 2, let table = parts.first, !table.isEmpty else { return nil }
        var values: [SQLiteValue] = []
        for part in parts.dropFirst() {
            guard let value = Self.parseComponent(Substring(part)) else { return nil }
            values.append(value)
        }
        return (String(table), values)
    }

    private static func keyComponent(_ value: SQLiteValue) -> String {
        switch value {
        case .integer(let number): "i\(number)"
        case .text(let text): "t" + Self.percentEncode(Array(text.utf8))
        case .real(let number): "r" + String(number.bitPattern, radix: 16)
        case .blob(let bytes): "x" + bytes.map { Self.hex($0) }.joined()
        // Sessions never record a row whose primary key is NULL; kept total for safety.
        case .null: "n"
        }
    }

    private static func parseComponent(_ part: Substring) -> SQLiteValue? {
        guard let tag = part.first else { return nil }
        let body = part.dropFirst()
        switch tag {
        case "i": return Int64(body).map { .integer($0) }
        case "t": return Self.percentDecode(body).map { .text(String(decoding: $0, as: UTF8.self)) }
        case "r": return UInt64(body, radix: 16).map { .real(Double(bitPattern: $0)) }
        case "x": return Self.hexDecode(body).map { .blob($0) }
        case "n": return body.isEmpty ? .null : nil
        default: return nil
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
    }

    private static func percentEncode(_ bytes: [UInt8]) -> String {
        var out = ""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                out += "%" + Self.hex(byte)
            }
        }
        return out
    }

    private static func percentDecode(_ text: Substring) -> [UInt8]? {
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                out.append(byte)
                continue
            }
            guard bytes.count >= 2, let decoded = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
            else { return nil }
            out.append(decoded)
            bytes = bytes.dropFirst(2)
        }
        return out
    }

    private static func hexDecode(_ text: Substring) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        var index = 0
        while index < digits.count {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(byte)
            index += 2
        }
        return out
    }

    // MARK: Values

    static func encode(_ values: [SQLiteValue]) -> [UInt8] {
        var out: [UInt8] = []
        Self.appendVarint(UInt64(values.count), to: &out)
        for value in values {
            switch value {
            case .null:
                out.append(0)
            case .integer(let number):
                out.append(1)
                Self.appendFixed(UInt64(bitPattern: number), to: &out)
            case .real(let number):
                out.append(2)
                Self.appendFixed(number.bitPattern, to: &out)
            case .text(let text):
                out.append(3)
                let bytes = Array(text.utf8)
                Self.appendVarint(UInt64(bytes.count), to: &out)
                out += bytes
            case .blob(let bytes):
                out.append(4)
                Self.appendVarint(UInt64(bytes.count), to: &out)
                out += bytes
            }
        }
        return out
    }

    static func decode(_ bytes: [UInt8]) throws(RegistryError) -> [SQLiteValue] {
        var reader = Reader(bytes: bytes[...])
        let count = try reader.varint()
        guard count <= UInt64(bytes.count) else { throw .dataLoss("replicated row: \(count) columns in \(bytes.count) bytes") }
        var values: [SQLiteValue] = []
        for _ in 0..<count {
            switch try reader.byte() {
            case 0: values.append(.null)
            case 1: values.append(.integer(Int64(bitPattern: try reader.fixed())))
            case 2: values.append(.real(Double(bitPattern: try reader.fixed())))
            case 3: values.append(.text(String(decoding: try reader.bytes(Int(try reader.varint())), as: UTF8.self)))
            case 4: values.append(.blob(Array(try reader.bytes(Int(try reader.varint())))))
            case let tag: throw .dataLoss("replicated row: unknown value tag \(tag)")
            }
        }
        guard reader.bytes.isEmpty else { throw .dataLoss("replicated row: \(reader.bytes.count) bytes after its values") }
        return values
    }

    private static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }

    private static func appendFixed(_ value: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8((value >> UInt64(shift)) & 0xff)) }
    }

    private struct Reader {
        var bytes: ArraySlice<UInt8>

        mutating func byte() throws(RegistryError) -> UInt8 {
            guard let byte = bytes.popFirst() else { throw .dataLoss("replicated row: truncated") }
            return byte
        }

        mutating func varint() throws(RegistryError) -> UInt64 {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let byte = try self.byte()
                guard shift < 64 else { throw .dataLoss("replicated row: varint too long") }
                value |= UInt64(byte & 0x7f) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
        }

        mutating func fixed() throws(RegistryError) -> UInt64 {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(try self.byte()) << UInt64(shift) }
            return value
        }

        mutating func bytes(_ count: Int) throws(RegistryError) -> ArraySlice<UInt8> {
            guard count >= 0, count <= bytes.count else { throw .dataLoss("replicated row: truncated") }
            defer { bytes = bytes.dropFirst(count) }
            return bytes.prefix(count)
        }
    }
}
