import CProtobufC

// Map fields, which protobuf-c holds as repeated `…Entry` messages of a key (always a string here) and a value.

extension ProtobufC {
    /// A map field; a key seen twice keeps its last value, as protobuf requires.
    public static func map<Entry, Value: ProtobufCMapValue>(
        _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?,
        count: Int
    ) -> [String: Value] {
        var result: [String: Value] = [:]
        for case let entry? in elements(pointer, count) {
            let fields = MapEntryFields(of: UnsafeMutableRawPointer(entry), value: Value.self)
            result[String(cValue: fields.key.load(as: UnsafeMutablePointer<CChar>?.self))] =
                Value(cValue: fields.value.load(as: Value.CValue.self))
        }
        return result
    }

    /// A struct as its generated `…__init` leaves it: descriptor set, every field at its default.
    @inlinable static func initialized<T>(_ cInit: (UnsafeMutablePointer<T>?) -> Void) -> T {
        withUnsafeTemporaryAllocation(of: T.self, capacity: 1) { buffer in
            cInit(buffer.baseAddress)
            return buffer.baseAddress!.move()
        }
    }

    @inlinable static func elements<T>(_ pointer: UnsafeMutablePointer<T>?, _ count: Int) -> UnsafeBufferPointer<T> {
        UnsafeBufferPointer(start: pointer, count: pointer == nil ? 0 : count)
    }
}

extension CArena {
    /// A map field as protobuf-c's repeated `…Entry` messages, each prepared by the entry's generated `…__init` and
    /// sorted by key, so that equal maps encode alike.
    public func map<Entry, Value: ProtobufCMapValue>(
        _ values: [String: Value],
        entry cInit: (UnsafeMutablePointer<Entry>?) -> Void
    ) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?) {
        let entries = values.sorted { $0.key < $1.key }.map { key, value in
            let entry = box(ProtobufC.initialized(cInit))
            let fields = MapEntryFields(of: UnsafeMutableRawPointer(entry), value: Value.self)
            fields.key.storeBytes(of: key.cValue(in: self), as: UnsafeMutablePointer<CChar>?.self)
            fields.value.storeBytes(of: value.cValue(in: self), as: Value.CValue.self)
            return Optional(entry)
        }
        return (entries.count, array(entries))
    }
}

/// The value type of a protobuf map field, with the protobuf-c type of the entry's `value` field (checked against the
/// entry's descriptor before it is read or written).
public protocol ProtobufCMapValue: ProtobufCField {
    static var protobufCType: ProtobufCType { get }
}

extension Double: ProtobufCMapValue {
    public static var protobufCType: ProtobufCType { PROTOBUF_C_TYPE_DOUBLE }
}

extension UInt32: ProtobufCMapValue {
    public static var protobufCType: ProtobufCType { PROTOBUF_C_TYPE_UINT32 }
}

extension String: ProtobufCMapValue {
    public static var protobufCType: ProtobufCType { PROTOBUF_C_TYPE_STRING }
}

/// A message as the value of a map field: protobuf-c's entry holds a pointer to the message's struct.
extension ProtobufCMapValue where Self: ProtobufCConvertible {
    public static var protobufCType: ProtobufCType { PROTOBUF_C_TYPE_MESSAGE }
}

/// Where the key and the value of one map entry lie, read from the entry's descriptor (its fields sorted by number:
/// the key is 1, the value 2).
private struct MapEntryFields {
    let key: UnsafeMutableRawPointer
    let value: UnsafeMutableRawPointer

    init<Value: ProtobufCMapValue>(of entry: UnsafeMutableRawPointer, value: Value.Type) {
        let descriptor = entry.load(as: ProtobufCMessage.self).descriptor.pointee
        let fields = UnsafeBufferPointer(start: descriptor.fields, count: Int(descriptor.n_fields))
        precondition(
            fields.count == 2 && fields[0].type == PROTOBUF_C_TYPE_STRING && fields[1].type == Value.protobufCType,
            "\(String(cString: descriptor.name)) is not a map entry of string to \(Value.self)"
        )
        key = entry + Int(fields[0].offset)
        self.value = entry + Int(fields[1].offset)
    }
}
