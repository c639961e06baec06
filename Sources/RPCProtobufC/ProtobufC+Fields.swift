import CProtobufC

// Reading and writing the fields of protobuf-c structs whose messages are ``ProtobufCConvertible``: one call a field,
// in each direction. Repeated fields come as a count and a pointer, which the writers return together.

extension ProtobufC {
    /// A singular message field; `nil` when it is absent.
    @inlinable public static func message<Message: ProtobufCConvertible>(
        _ pointer: UnsafeMutablePointer<Message.CMessage>?
    ) -> Message? {
        pointer.map { Message(c: $0.pointee) }
    }

    /// A repeated message field.
    @inlinable public static func repeated<Message: ProtobufCConvertible>(
        _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<Message.CMessage>?>?,
        count: Int
    ) -> [Message] {
        elements(pointer, count).compactMap { $0.map { Message(c: $0.pointee) } }
    }

    /// A repeated enum field.
    @inlinable public static func repeated<Enum: ProtobufCEnum>(_ pointer: UnsafeMutablePointer<Enum.CEnum>?, count: Int) -> [Enum] {
        elements(pointer, count).map(Enum.init(c:))
    }

    /// A repeated string field.
    @inlinable public static func repeated(_ pointer: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, count: Int) -> [String] {
        strings(pointer, count: count)
    }

    /// A map field, which protobuf-c holds as repeated `…Entry` messages; a key seen twice keeps its last value, as
    /// protobuf requires.
    public static func map<Entry, Value: ProtobufCMapValue>(
        _ pointer: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?,
        count: Int
    ) -> [String: Value] {
        var result: [String: Value] = [:]
        for case let entry? in elements(pointer, count) {
            let fields = MapEntryFields(of: UnsafeMutableRawPointer(entry), value: Value.self)
            result[string(fields.key.load(as: UnsafeMutablePointer<CChar>?.self))] = Value(protobufC: fields.value)
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
    /// A singular message field; `nil` leaves it absent.
    @inlinable public func message<Message: ProtobufCConvertible>(_ message: Message?) -> UnsafeMutablePointer<Message.CMessage>? {
        message.map { box($0.cStruct(in: self)) }
    }

    /// A repeated message field.
    @inlinable public func repeated<Message: ProtobufCConvertible>(
        _ messages: [Message]
    ) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Message.CMessage>?>?) {
        (messages.count, self.messages(messages.map { $0.cStruct(in: self) }))
    }

    /// A repeated enum field.
    @inlinable public func repeated<Enum: ProtobufCEnum>(_ values: [Enum]) -> (Int, UnsafeMutablePointer<Enum.CEnum>?) {
        (values.count, array(values.map(\.cValue)))
    }

    /// A repeated string field.
    @inlinable public func repeated(_ values: [String]) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) {
        (values.count, strings(values))
    }

    /// A map field as protobuf-c's repeated `…Entry` messages, each prepared by the entry's generated `…__init` and
    /// sorted by key, so that equal maps encode alike.
    public func map<Entry, Value: ProtobufCMapValue>(
        _ values: [String: Value],
        entry cInit: (UnsafeMutablePointer<Entry>?) -> Void
    ) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?) {
        let entries = values.sorted { $0.key < $1.key }.map { key, value in
            let entry = box(ProtobufC.initialized(cInit))
            let fields = MapEntryFields(of: UnsafeMutableRawPointer(entry), value: Value.self)
            fields.key.storeBytes(of: string(key), as: UnsafeMutablePointer<CChar>.self)
            value.store(protobufC: fields.value, in: self)
            return Optional(entry)
        }
        return (entries.count, array(entries))
    }
}

/// The value type of a protobuf map field: how it sits in the `value` field of a protobuf-c map entry.
public protocol ProtobufCMapValue {
    /// The protobuf-c type of the entry's `value` field.
    static var protobufCType: ProtobufCType { get }

    /// Reads the value at `field`.
    init(protobufC field: UnsafeRawPointer)

    /// Writes the value at `field`, copying what it points to into `arena`.
    func store(protobufC field: UnsafeMutableRawPointer, in arena: CArena)
}

extension ProtobufCMapValue where Self: BitwiseCopyable {
    public init(protobufC field: UnsafeRawPointer) {
        self = field.load(as: Self.self)
    }

    public func store(protobufC field: UnsafeMutableRawPointer, in arena: CArena) {
        field.storeBytes(of: self, as: Self.self)
    }
}

extension Double: ProtobufCMapValue {
    public static var protobufCType: ProtobufCType { PROTOBUF_C_TYPE_DOUBLE }
}

extension UInt32: ProtobufCMapValue {
    public static var protobufCType: ProtobufCType { PROTOBUF_C_TYPE_UINT32 }
}

extension String: ProtobufCMapValue {
    public static var protobufCType: ProtobufCType { PROTOBUF_C_TYPE_STRING }

    public init(protobufC field: UnsafeRawPointer) {
        self = ProtobufC.string(field.load(as: UnsafeMutablePointer<CChar>?.self))
    }

    public func store(protobufC field: UnsafeMutableRawPointer, in arena: CArena) {
        field.storeBytes(of: arena.string(self), as: UnsafeMutablePointer<CChar>.self)
    }
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
